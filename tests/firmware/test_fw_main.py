"""firmware/main.py itself: the launcher runs it on the unix port and a host talks over the pty."""


import pytest

from hil_sim.launcher import SimRig
from protocol import schema
from tests.support.fw_harness import start_run_head
from tests.support.ptyhost import PtyHost

pytestmark = pytest.mark.micropython


def test_main_boots_with_a_delimiter_a_boot_event_and_heartbeats_then_runs():
    # accel 10: 10 ms of wall time per 100 ms sample, room enough on a loaded machine.
    with SimRig("G1", accel=10) as rig:
        host = PtyHost(rig.port)
        try:
            host.wait(lambda m, h: m == schema.HEARTBEAT, what="the first boot's heartbeat")
            rig.reset()  # boot again now that the host surely listens
            index, _, boot, _ = host.wait(
                lambda m, h: m == schema.EVENT and h[1] == schema.EV_BOOT
                and h[6] == schema.RESET_SOFT, what="EV_BOOT after the reset")  # value
            _, blocks = host.frames()
            # event_seq and uptime start again at boot; the boot is the rig's, no channel's
            assert (boot[0], boot[3], boot[4]) == (0, schema.CHANNEL_RIG, 0)
            assert index == 0 or blocks[index - 1] == b""  # a lone 0x00 came first
            host.wait(lambda m, h: m == schema.HEARTBEAT, what="a heartbeat")

            host.port.write(b"\x00")
            host.send(schema.HELLO, (77, schema.SCHEMA_HASH, 1))
            ack = host.wait(lambda m, h: m == schema.HELLO_ACK, what="HELLO_ACK")[2]
            assert ack[1] == schema.SCHEMA_HASH and ack[5] == schema.RESET_SOFT
            host.send(schema.START_RUN, start_run_head(cmd_id=5, run_key=88, setpoint_mv=10000,
                                                       sample_period_ms=100, max_duration_s=10))
            host.wait(lambda m, h: m == schema.ACK and h[0] == 5, what="the START_RUN ACK")
            stopped = host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_RUN_STOPPED,
                                what="run_stopped")[2]
            assert (stopped[2], stopped[6]) == (88, schema.STOP_MAX_DURATION)  # run_key, value
            host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_STATE
                      and h[6] == schema.STATE_IDLE, what="back to idle")  # value
            records = [r for _, m, h, tail in host.frames()[0]
                       if m == schema.SAMPLE_BATCH and h[0] == 88 for r in tail]
            seqs = sorted({dict(zip(schema.SAMPLE_NAMES, r))["seq"] for r in records})
            assert seqs == list(range(len(seqs))) and len(seqs) >= 50
        finally:
            host.close()
