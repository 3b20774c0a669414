"""The fault injector at work in the relay between two real ptys, every byte counted."""

import contextlib
import os
import random
import select
import threading
import time

import pytest

from hil_sim.faults import FaultInjector, parse_faults
from hil_sim.relay import Relay
from tests.support.processes import pending, raw_pty, read_exactly
from tests.support.waiting import wait_for


class Link:
    """Both outer ends of a relayed pair of ptys: `device` and `host` are slave fds."""

    def __init__(self, faults, **relay_options):
        self.device_master, self.device = raw_pty()
        self.host_master, self.host = raw_pty()
        self.host_path = os.ttyname(self.host)
        self.injector = FaultInjector(parse_faults(faults))
        self.relay = Relay(self.device_master, self.host_master, self.injector, **relay_options)

    @property
    def stats(self):
        return dict(self.injector.stats, **self.relay.stats)

    def close(self):
        self.relay.stop()
        for fd in (self.device_master, self.device, self.host_master, self.host):
            if fd >= 0:
                os.close(fd)


@contextlib.contextmanager
def relayed(faults="", **relay_options):
    link = Link(faults, **relay_options)
    try:
        link.relay.start()
        wait_for(link.relay.host_present, what="the relay to see the host end open")
        yield link
    finally:
        link.close()


def send_in_background(fd, data):
    """Write data to fd from a thread (a pty holds only a few kB); returns the thread."""
    def write_all():
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    thread = threading.Thread(target=write_all, daemon=True)
    thread.start()
    return thread


def test_clean_link_carries_every_byte_both_ways_in_order():
    up = random.Random(1).randbytes(50_000)
    down = random.Random(2).randbytes(50_000)
    with relayed() as link:
        writers = [send_in_background(link.device, up), send_in_background(link.host, down)]
        assert read_exactly(link.host, len(up)) == up
        assert read_exactly(link.device, len(down)) == down
        for writer in writers:
            writer.join(5)
        wait_for(lambda: (link.stats["up_bytes_out"], link.stats["down_bytes_out"])
                 == (len(up), len(down)), what="the relay's byte counts")


def test_corrupt_one_flips_exactly_one_bit_of_every_byte():
    sent = random.Random(3).randbytes(20_000)
    with relayed("corrupt=1.0") as link:
        send_in_background(link.device, sent)
        got = read_exactly(link.host, len(sent))
        assert all((a ^ b).bit_count() == 1 for a, b in zip(sent, got))
        assert link.stats["up_corrupted_bytes"] == len(sent)


def test_direction_prefix_corrupts_only_that_direction():
    data = b"0123456789" * 100
    with relayed("down:corrupt=1.0") as link:
        os.write(link.device, data)
        assert read_exactly(link.host, len(data)) == data
        os.write(link.host, data)
        assert all(a != b for a, b in zip(read_exactly(link.device, len(data)), data))
        assert link.stats["up_corrupted_bytes"] == 0
        assert link.stats["down_corrupted_bytes"] == len(data)


def _is_subsequence(short, long):
    it = iter(long)
    return all(byte in it for byte in short)


def test_drop_half_loses_about_half_and_counts_each_byte_it_dropped():
    n = 20_000
    sent = random.Random(4).randbytes(n)
    with relayed("drop=0.5,seed=11") as link:
        send_in_background(link.device, sent)
        wait_for(lambda: link.stats["up_bytes_in"] == n, what="all bytes through the relay")
        dropped = link.stats["up_dropped_bytes"]
        got = read_exactly(link.host, n - dropped)
        wait_for(lambda: link.stats["up_bytes_out"] == n - dropped, what="the last write")
        assert pending(link.host) == b""
    assert abs(dropped - n / 2) < 5 * (n * 0.25) ** 0.5  # binomial, 5 sigma
    assert _is_subsequence(got, sent)


def test_cut_discards_both_directions_for_its_wall_duration_then_heals():
    with relayed("cut=2s+0.4s") as link:
        os.write(link.device, b"before")
        assert read_exactly(link.host, 6) == b"before"
        assert link.stats["cuts"] == 0, "a cut due at a device time waits for the board"
        # what the launcher does when the board halts at device time 2 s
        cut_start_s = time.monotonic()
        link.relay.call_soon_threadsafe(lambda: link.injector.advance(2.0, time.monotonic()))
        wait_for(lambda: link.stats["cuts"] == 1, what="the cut to start")
        os.write(link.device, b"lost-up")
        os.write(link.host, b"lost-down")
        wait_for(lambda: link.stats["up_cut_bytes"] == 7 and link.stats["down_cut_bytes"] == 9,
                 what="bytes sent during the cut to be discarded")
        assert link.injector.cut_end_wall_s() - cut_start_s == pytest.approx(0.4, abs=0.05)
        wait_for(lambda: not link.injector.cut_active(time.monotonic()), what="the cut end")
        os.write(link.device, b"after")
        os.write(link.host, b"after")
        assert read_exactly(link.host, 5) == b"after"
        assert read_exactly(link.device, 5) == b"after"


def test_delay_holds_each_chunk_for_its_latency():
    with relayed("up:delay=150ms") as link:
        t0 = time.monotonic()
        os.write(link.device, b"x")
        read_exactly(link.host, 1)
        latency_s = time.monotonic() - t0
        t0 = time.monotonic()
        os.write(link.host, b"y")
        read_exactly(link.device, 1)
        undelayed_s = time.monotonic() - t0
        assert link.stats["up_delayed_chunks"] == 1
        assert link.stats["up_delayed_bytes"] == 1
    assert 0.15 <= latency_s < 0.15 + 0.25
    assert undelayed_s < 0.1


def test_delay_keeps_byte_order():
    sent = random.Random(5).randbytes(30_000)
    with relayed("delay=20ms") as link:
        send_in_background(link.device, sent)
        assert read_exactly(link.host, len(sent)) == sent


def test_bytes_for_a_host_that_closed_the_port_are_discarded_and_counted():
    with relayed() as link:
        os.close(link.host)
        link.host = -1
        wait_for(lambda: not link.relay.host_present(), what="the relay to see the host gone")
        os.write(link.device, b"z" * 5000)
        wait_for(lambda: link.stats["up_discarded_bytes"] == 5000, what="discard count")
        link.host = os.open(link.host_path, os.O_RDWR | os.O_NOCTTY)
        wait_for(link.relay.host_present, what="the relay to see the host back")
        os.write(link.device, b"back")
        assert read_exactly(link.host, 4) == b"back"


def test_a_host_that_does_not_read_blocks_the_device_writer_and_loses_nothing():
    sent = random.Random(6).randbytes(400_000)
    with relayed(queue_limit_bytes=1024) as link:
        os.set_blocking(link.device, False)
        view = memoryview(sent)
        writable = select.poll()
        writable.register(link.device, select.POLLOUT)

        def writer_is_blocked():
            nonlocal view
            try:
                view = view[os.write(link.device, view[:4096]):]
            except BlockingIOError:
                return not writable.poll(200)  # no room comes back while nobody reads
            return False

        wait_for(writer_is_blocked, what="the device writer to block")
        assert len(view) > 0
        os.set_blocking(link.device, True)
        send_in_background(link.device, view)
        assert read_exactly(link.host, len(sent)) == sent
        assert link.stats["up_bytes_in"] == len(sent)
