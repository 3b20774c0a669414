"""Link faults during a simulated 1-hour lifetime run: every sample stored once, T50 unmoved.

A G1 pixel held at 10 V for 3600 s of device time (one sample per device second) runs with
the same physics seed on a clean link (as fast as the CPU allows), and twice (accel 100: 36
s of wall time) with 1 % of bytes corrupted, 0.1 % dropped, a device reset at 300 s of lit
time (the pixel's powered time: the run's 300 s whatever the rig idled before; before T50,
so it matters), and link cuts of 4 s and 5 s of wall time at 1000 s and 2200 s of lit
time. The service is a real `lumenrig serve`; the simulated rig runs in this process so
the test can read its fault counters. Its ring holds 8192 samples
(LUMENRIG_SIM_SAMPLE_RING): a 5 s cut at accel 100 is 500 samples, more than the Pico's 512
once the reconnect is counted. Figures go to test-artifacts/reliability-faults.json.

The first parts check the pieces this relies on: the firmware's frames on a damaged link,
the simulated board's ring, and the reorder buffer the service stores samples through.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.link.wire import SAMPLE_DTYPE
from host.runs.ordering import SeqOrder, seq_ranges
from host.store.columns import CSV_COLUMNS
from protocol import schema
from tests.support.fw_harness import Bed
from tests.support.mpy import run_micropython
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import AUTH, ServiceProcess, rig_after_the_end, wait_for

ACCEL = 100
SEED = 1
RING_ENV = {"LUMENRIG_SIM_SAMPLE_RING": "8192"}
LINK_FAULTS = "corrupt=0.01,drop=0.001,seed=7"
RESET_LIT_S = 300.0
# The cuts last well past the host's 3 s silence timeout, so a host on a loaded machine still
# takes each for a lost link (with 4 s and 5 s, a loaded round counted one reconnect short).
FAULTS = LINK_FAULTS + ",reset=lit:300s,cut=lit:1000s+8s,cut=lit:2200s+9s"
PARAMS = {"voltage_v": 10.0, "stop_fraction": 0.05, "max_duration_s": 3600,
          "sample_period_s": 1.0, "host_loss_grace_s": 30}


# ---------------------------------------------------------------- firmware and simulator


def _sample_frames(bed: Bed, since: int, resent: bool) -> list[list]:
    return [tail for mid, head, tail in bed.messages[since:]
            if mid == schema.SAMPLE_BATCH and bool(head[2] & schema.BATCH_RESENT) == resent]


def test_resent_samples_go_one_per_frame():
    bed = Bed(accel=1000)
    bed.hello()
    bed.start_run(sample_period_ms=50)
    bed.run_until(lambda: bed.ctrl.next_seq >= 20, what="20 samples")
    since = len(bed.messages)
    assert bed.command(schema.RESEND, (42, 0, 3, 12))[0] == schema.ACK
    frames = _sample_frames(bed, since, resent=True)
    seqs = [[dict(zip(schema.SAMPLE_NAMES, record))["seq"] for record in tail] for tail in frames]
    assert seqs == [[s] for s in range(3, 13)]


def test_a_live_batch_holds_at_most_100_ms_of_run_time_under_acceleration():
    # At accel 100 a 1 s sample period is 10 ms of wall time: a batch aged in wall time
    # alone would fill up to 8 samples; aged in run time it holds what the board would, one.
    bed = Bed(accel=100)
    bed.hello()
    bed.start_run(sample_period_ms=1000)
    since = len(bed.messages)
    bed.run_until(lambda: bed.ctrl.next_seq >= 30, timeout_s=30, what="30 samples")
    sizes = [len(tail) for tail in _sample_frames(bed, since, resent=False)]
    assert len(sizes) >= 25 and max(sizes) == 1


@pytest.mark.micropython
def test_the_simulated_board_takes_a_larger_sample_ring_from_its_environment():
    script = ("from hil_sim import board\nfrom lumenfw.device import Device\n"
              "device = Device(board.build_from_env())\n"
              "print(device.ring.capacity, len(device.ring.buf) // device.ring.capacity)\n")
    env = {"LUMENRIG_SIM_PD_A_PER_CD_M2": "9.07e-10"}
    bigger = run_micropython(script, env=dict(env, LUMENRIG_SIM_SAMPLE_RING="8192"))
    default = run_micropython(script, env=env)
    size = str(schema.SAMPLE_SIZE).encode()
    assert bigger.stdout.split() == [b"8192", size], bigger.stderr
    assert default.stdout.split() == [b"512", size], default.stderr


# ---------------------------------------------------------------- the reorder buffer


def _records(seqs) -> np.ndarray:
    records = np.zeros(len(seqs), SAMPLE_DTYPE)
    records["seq"] = seqs
    records["t_s"] = seqs  # marks where each record came from, across a renumbering
    return records


def test_samples_in_order_are_released_at_once():
    order = SeqOrder()
    assert list(order.add(_records([0, 1, 2]))["seq"]) == [0, 1, 2]
    assert order.next_seq == 3 and order.held_count == 0


def test_a_sample_past_a_gap_waits_until_the_gap_is_filled():
    order = SeqOrder()
    order.add(_records([0, 1]))
    assert len(order.add(_records([3, 4]))) == 0
    assert order.holes(5) == [(2, 2), (5, 5)]
    assert list(order.add(_records([2]))["seq"]) == [2, 3, 4]


def test_giving_up_a_gap_releases_what_waited_behind_it():
    order = SeqOrder()
    order.add(_records([0, 4, 5]))
    assert list(order.skip_to(4)["seq"]) == [4, 5]
    assert order.next_seq == 6
    assert list(order.add(_records([2]))["seq"]) == [2], "a given-up seq that comes is kept"


def test_renumbering_after_a_reset_closes_the_gaps_in_arrival_order():
    order = SeqOrder()
    order.add(_records([0, 1, 3, 4, 7]))
    renumbered, dropped = order.renumber()
    assert list(renumbered["seq"]) == [2, 3, 4]
    assert list(renumbered["t_s"]) == [3, 4, 7]
    assert dropped == [(2, 2), (5, 6)]
    assert order.next_seq == 5 and order.held_count == 0


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_arrival_order_with_repeats_stores_each_seq_once_in_order(data):
    n = data.draw(st.integers(1, 60), label="n")
    arrivals = data.draw(st.permutations(list(range(n))), label="order")
    repeats = data.draw(st.lists(st.integers(0, n - 1), max_size=20), label="repeats")
    stream = list(arrivals) + repeats
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=10), label="cuts"))
    order = SeqOrder()
    released: list[int] = []
    for part in np.split(np.array(stream), cuts):
        released += [int(s) for s in order.add(_records(part))["seq"]]
    first = [s for i, s in enumerate(released) if s not in released[:i]]
    assert first == list(range(n))
    assert order.next_seq == n and order.held_count == 0


def test_seq_ranges_groups_consecutive_seqs():
    assert seq_ranges(np.array([9, 1, 2, 3, 7, 9, 10])) == [(1, 3), (7, 7), (9, 10)]


# ---------------------------------------------------------------- the hour-long run


@dataclass
class Outcome:
    """What one run left behind, read through the API, plus the simulator's counters."""

    run: dict
    seqs: list[int]
    rig: dict
    sim_stats: dict
    wall_s: float
    rows: list[list]

    def events(self, name: str) -> list[dict]:
        return [e for e in self.run["events"] if e["name"] == name]


def _hour_long_run(base: Path, faults: str, accel) -> Outcome:
    from hil_sim.launcher import SimRig
    from hil_sim.optics import calibration

    base.mkdir(parents=True, exist_ok=True)
    with SimRig("G1", accel=accel, seed=SEED, faults=faults, extra_env=RING_ENV) as rig:
        service = ServiceProcess(["rig1=" + rig.port], "sqlite:///%s" % (base / "runs.sqlite"),
                                 base).start()
        try:
            put = httpx.put(service.url + "/api/rigs/rig1/calibration", headers=AUTH,
                            json=calibration("G1").model_dump(mode="json"), timeout=30)
            assert put.status_code == 200, put.text
            began = time.monotonic()
            posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
                "kind": "lifetime", "rig": "rig1", "params": PARAMS})
            assert posted.status_code == 201, posted.text
            run_id = posted.json()["id"]

            def finished():
                run = httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()
                return run if run["state"] not in ("queued", "running") else None

            run = wait_for(finished, 150, "the hour-long run to end", interval_s=0.5)
            wall_s = time.monotonic() - began
            rows = httpx.get("%s/api/runs/%d/samples" % (service.url, run_id),
                             timeout=60).json()["rows"]
            described = rig_after_the_end(service.url, len(rows))
            # The run again, after the rig's counters: an answer to a RESEND that came after
            # the run ended is in the link's count and, as a `resent` event, here, once the
            # service has stored it (read again until they agree, or 30 s).
            deadline = time.monotonic() + 30
            while True:
                run = httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()
                if (_resent_samples(run) == described["link"]["samples_resent"]
                        or time.monotonic() > deadline):
                    break
                time.sleep(0.2)
                described = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
            return Outcome(run, [row[0] for row in rows], described, dict(rig.stats), wall_s,
                           rows)
        finally:
            service.stop()


def _resent_samples(run: dict) -> int:
    """How many samples the run's `resent` events name."""
    return sum(b - a + 1 for e in run["events"] if e["name"] == "resent"
               for a, b in e["data"]["ranges"])


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Outcome:
    return _hour_long_run(tmp_path_factory.mktemp("clean"), "", None)


@pytest.fixture(scope="module")
def faulted_run(tmp_path_factory) -> Outcome:
    return _hour_long_run(tmp_path_factory.mktemp("faulted"), FAULTS, ACCEL)


@pytest.fixture(scope="module")
def faulted_replay(tmp_path_factory) -> Outcome:
    return _hour_long_run(tmp_path_factory.mktemp("replay"), FAULTS, ACCEL)


def _figures(faulted: Outcome, clean: Outcome | None = None) -> dict:
    stats = faulted.sim_stats
    lost = faulted.events("samples_lost")
    figures = {
        "accel": ACCEL,
        "faults": FAULTS,
        "injected": {
            "bytes_corrupted": stats["up_corrupted_bytes"] + stats["down_corrupted_bytes"],
            "bytes_dropped": stats["up_dropped_bytes"] + stats["down_dropped_bytes"],
            "bytes_cut": stats["up_cut_bytes"] + stats["down_cut_bytes"],
            "bytes_relayed": stats["up_bytes_in"] + stats["down_bytes_in"],
            "cuts": stats["cuts"], "device_resets": stats["device_resets"],
        },
        "samples_stored": len(faulted.seqs),
        "device_next_seq": faulted.rig["device"].get("next_seq"),
        "lost_in_reset_at_least": sum((e["data"] or {}).get("lost_at_least", 0) for e in lost),
        "renumbered_after_reset": sum((e["data"] or {}).get("renumbered", 0) for e in lost),
        "resumed": [e["data"] for e in faulted.events("resumed")],
        "gap_events": len(faulted.events("gap")),
        "resent_events": len(faulted.events("resent")),
        "link": {k: faulted.rig["link"].get(k) for k in (
            "gaps_detected", "samples_received", "samples_resent", "duplicate_samples",
            "crc_errors", "framing_errors", "reconnects", "commands_failed")},
        "wall_s": round(faulted.wall_s, 1),
        "t50_s": faulted.run["summary"]["t50_s"],
    }
    if clean is not None:
        figures["clean"] = {"samples_stored": len(clean.seqs),
                            "t50_s": clean.run["summary"]["t50_s"],
                            "wall_s": round(clean.wall_s, 1)}
        figures["t50_difference_pct"] = 100 * (figures["t50_s"] / figures["clean"]["t50_s"] - 1)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reliability-faults.json").write_text(json.dumps(figures, indent=1))
    print("reliability figures:", json.dumps(figures))
    return figures


@pytest.mark.micropython
def test_the_faulted_hour_long_run_completes_after_every_fault_it_was_dealt(faulted_run):
    run = faulted_run.run
    assert run["state"] == "completed", run.get("error")
    assert run["summary"]["stop_reason"] == "max_duration"
    stats = faulted_run.sim_stats
    assert stats["up_corrupted_bytes"] > 0 and stats["down_corrupted_bytes"] > 0
    assert stats["up_dropped_bytes"] > 0
    assert stats["cuts"] == 2 and stats["device_resets"] == 1
    assert len(faulted_run.events("resumed")) == 1
    # The link came back after the reset and after each cut. The run may end while the link
    # is down after the last cut (the board races on at x100 while a loaded host shakes
    # hands): that reconnect then finishes the run rather than reattaching it.
    assert faulted_run.rig["link"]["reconnects"] >= 3, faulted_run.rig["link"]
    assert len(faulted_run.events("reattached")) >= 1, "the first cut's reconnect reattached"
    _figures(faulted_run)


@pytest.mark.micropython
def test_every_seq_of_the_faulted_run_is_stored_exactly_once(faulted_run):
    seqs = faulted_run.seqs
    assert seqs == list(range(len(seqs)))
    # The device numbered the resumed run on from the samples stored, and what it counted
    # last is what the store holds (the fixture waited for that count, up to 5 s).
    assert faulted_run.rig["device"]["next_seq"] == len(seqs)
    # Every period is sampled; what is missing is what the reset destroyed.
    assert len(seqs) > 0.95 * PARAMS["max_duration_s"]


@pytest.mark.micropython
def test_each_gap_and_each_resend_of_the_faulted_run_is_an_event(faulted_run):
    link = faulted_run.rig["link"]
    gaps = faulted_run.events("gap")
    resent = faulted_run.events("resent")
    assert len(gaps) == link["gaps_detected"] > 100
    assert resent and _resent_samples(faulted_run.run) == link["samples_resent"] > 500


def _resume(outcome: Outcome) -> dict:
    [resumed] = outcome.events("resumed")
    return resumed["data"]


def _by_t_s(rows: list[list], below_t_s: float) -> dict[float, tuple]:
    """Rows taken before below_t_s of run time, by run time, without their seq."""
    return {row[1]: tuple(row[1:]) for row in rows if row[1] < below_t_s}


@pytest.mark.micropython
def test_faults_change_no_sample_the_host_stored_before_the_reset(faulted_run, clean_run):
    before = _by_t_s(faulted_run.rows, _resume(faulted_run)["resume_t_s"])
    clean = _by_t_s(clean_run.rows, float("inf"))
    # Every sample is read at its due time, whatever the host sent in that pass: each run
    # time the faulted run stored before the reset is one the clean run holds, same sample.
    assert len(before) > 250
    assert before.keys() <= clean.keys(), sorted(before.keys() - clean.keys())[:5]
    assert all(clean[t_s] == before[t_s] for t_s in before)


@pytest.mark.micropython
def test_two_faulted_replays_agree_on_every_sample_both_hold(faulted_run, faulted_replay):
    runs = (faulted_run, faulted_replay)
    # Before the reset: every run time both stored holds the same sample.
    before = [_by_t_s(run.rows, _resume(run)["resume_t_s"]) for run in runs]
    common = before[0].keys() & before[1].keys()
    assert len(common) > 250
    assert all(before[0][t_s] == before[1][t_s] for t_s in common)
    # After it: the same samples in the same order.  Which samples the reset destroyed (the
    # ones the host had not received) depends on the wall, so each run resumes its seqs and
    # run clock from its own count (recorded in its samples_lost and resumed events).
    after = [[tuple(row[2:]) for row in run.rows[_resume(run)["resume_seq"]:]] for run in runs]
    n = min(len(a) for a in after)
    assert n > 2500
    # Ambient columns included: a resume that reaches the board while its SHT31 converts
    # waits that reading out (tests/firmware/test_fw_ambient.py), so no replay starts from an
    # older one.
    assert after[0][:n] == after[1][:n]


@pytest.mark.micropython
def test_t50_of_the_faulted_run_is_the_clean_t50_less_the_run_time_the_reset_took(
        faulted_run, clean_run):
    assert clean_run.run["state"] == "completed"
    resume_t_s = _resume(faulted_run)["resume_t_s"]
    t50_s = faulted_run.run["summary"]["t50_s"]
    clean_t50_s = clean_run.run["summary"]["t50_s"]
    assert resume_t_s < t50_s, "the reset came before T50"
    figures = _figures(faulted_run, clean_run)
    assert clean_t50_s == pytest.approx(630, rel=0.02)
    # The run time between the reset and where the host resumed the run clock is missing
    # from the faulted run's clock (the rig's memory of it died); nothing else moves T50.
    # But after the reset the photodiode's noise is other draws than the clean run's, and
    # near T50 G1 falls ~0.04 cd/m2 per second against ~0.1 cd/m2 of noise, so the crossing
    # of either run moves by a second or two with its draws (measured: crossings at 0.4..0.7
    # L0 differ by -2..+0.3 s between the runs while their fitted T50s differ by the 0.9 s the
    # clock left out, to 0.3 s): one period each way beyond the clock's share.
    left_out_s = RESET_LIT_S - resume_t_s
    period_s = PARAMS["sample_period_s"]
    lost_s = clean_t50_s - t50_s
    assert left_out_s - 2 * period_s <= lost_s <= left_out_s + 2 * period_s, (figures,
                                                                             left_out_s)


@pytest.mark.micropython
def test_the_resumed_run_keeps_its_l0_and_its_first_sample_reads_the_lit_pixel(faulted_run):
    flags, voltage = CSV_COLUMNS.index("flags"), CSV_COLUMNS.index("voltage_v")
    rows = faulted_run.rows
    assert [row for row in rows if row[flags] & schema.FLAG_L0] == [rows[0]]  # the first: one L0
    first = rows[_resume(faulted_run)["resume_seq"]]
    assert first[voltage] == pytest.approx(PARAMS["voltage_v"], abs=0.1), first
