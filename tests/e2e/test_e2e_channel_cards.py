"""A simulated rig of channel cards (`channels`): the real service runs a lifetime run on
every channel of one board at once, each gives its own pixel's T50 with every seq stored
once, a busy channel refuses a second run while the others take theirs, a period beyond
the board's sampling budget is refused with the budget in numbers, and a pixel is swapped
on any channel (firmware on the MicroPython VM, accel=max)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

SEED = 7
SPREAD = 0.05
CHANNELS = 8
LIFETIME = {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 7200}


def _ended(service, run_id):
    """The run once it is no longer queued or running."""
    return wait_for(lambda: (r := httpx.get("%s/api/runs/%d" % (service.url, run_id),
                                            timeout=60).json())["state"] not in (
        "queued", "running") and r, 180, "run %d to end" % run_id)


def _start(service, channel):
    return httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig1", "channel": channel, "params": LIFETIME})


def _start_together(service, channels):
    """A run on each channel, the POSTs sent at once (on a loaded machine one after another
    took long enough for the first runs to end before the last began); their run ids."""
    with ThreadPoolExecutor(channels) as pool:
        posted = list(pool.map(lambda channel: _start(service, channel), range(channels)))
    for answer in posted:
        assert answer.status_code == 201, answer.text
    return [answer.json()["id"] for answer in posted]


def _truths_s(channels):
    """Each channel's pixel's T50 at 10 V, from the simulator's own physics."""
    from hil_sim.optics import pd_amps_per_cd_m2
    from hil_sim.physics.bench import Bench

    return [Bench("G1", SEED, pd_amps_per_cd_m2("G1"), channel=n, spread=SPREAD
                  ).t50_at_s(10.0) for n in range(channels)]


def _runs_on_every_channel(tmp_path, channels, accel, faults):
    """A lifetime run started on each channel of a card rig at once, each to its end: the
    runs and their samples."""
    service = ServiceProcess([f"sim:G1?accel={accel}&seed={SEED}&spread={SPREAD}"
                              f"&channels={channels}&faults={faults}"],
                             "sqlite:///%s" % (tmp_path / "runs.sqlite"), tmp_path).start()
    try:
        run_ids = _start_together(service, channels)
        runs = [_ended(service, run_id) for run_id in run_ids]
        samples = [httpx.get("%s/api/runs/%d/samples" % (service.url, run_id),
                             timeout=60).json() for run_id in run_ids]
    finally:
        service.stop()
    return runs, samples


def test_every_channel_of_a_card_board_runs_at_once_and_lasts_its_own_pixels_t50(tmp_path):
    from lumenfw import board_config, budget
    from lumenfw.drivers.ads1115 import RATE_SPS

    truths_s = _truths_s(CHANNELS)
    assert max(truths_s) / min(truths_s) > 1.03, "the pixels differ"
    service = ServiceProcess([f"sim:G1?accel=max&seed={SEED}&spread={SPREAD}"
                              f"&channels={CHANNELS}"],
                             "sqlite:///%s" % (tmp_path / "cards.sqlite"), tmp_path).start()
    try:
        rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
        assert rig["simulator"]["channels"] == CHANNELS
        assert [c["channel"] for c in rig["device"]["channels"]] == list(range(CHANNELS))
        beyond = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
            "kind": "lifetime", "rig": "rig1", "channel": 1,
            "params": dict(LIFETIME, sample_period_s=0.1, oversample=16)})
        assert beyond.status_code == 422, beyond.text
        least_s = budget.min_period_ms(16, CHANNELS, board_config.I2C_FREQ_HZ,
                                       RATE_SPS[board_config.ADS_PD_RATE_INDEX]) / 1000
        assert least_s > 0.1
        assert ("a sample every 100 ms is beyond the board's sampling budget" in beyond.text
                and "on each of its %d channels" % CHANNELS in beyond.text
                and "sample_period_s must be at least %.3f" % least_s in beyond.text), beyond.text
        run_ids = _start_together(service, CHANNELS)
        again = _start(service, 2)
        assert again.status_code in (201, 409), again.text
        if again.status_code == 409:  # (at accel=max the first may have ended already)
            assert "rig rig1 channel 2 is busy with run %d" % run_ids[2] in again.text
        else:
            run_ids.append(again.json()["id"])
        runs = [_ended(service, run_id) for run_id in run_ids]
        samples = [httpx.get("%s/api/runs/%d/samples" % (service.url, run_id),
                             timeout=60).json() for run_id in run_ids[:CHANNELS]]
        rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
        assert rig["active_runs"] == {} and all(c["run"] is None
                                                for c in rig["device"]["channels"])
        assert all(c["last_sample"] is not None for c in rig["device"]["channels"])
        replaced = httpx.post(service.url + "/api/rigs/rig1/sim/replace?channel=7",
                              headers=AUTH, timeout=60)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["channel"] == 7
    finally:
        service.stop()
    for channel, (run, truth_s, got) in enumerate(zip(runs, truths_s, samples)):
        assert run["state"] == "completed", run
        assert run["channel"] == channel
        assert run["summary"]["t50_s"] == pytest.approx(truth_s, rel=0.03), channel
        seqs = [row[got["columns"].index("seq")] for row in got["rows"]]
        assert seqs == list(range(len(seqs))) and len(seqs) > truth_s * 0.9, channel


def test_a_device_reset_mid_run_resumes_the_run_of_every_channel(tmp_path):
    """The board resets at 300 s of lit time with a run on each of its eight channels: each
    run is resumed on its own channel from its stored samples and completes with its own
    pixel's T50, every seq stored once: the eight ran at once. Paced at x10, so that all
    eight are running when the reset comes (30 s of wall time for the eight POSTs, sent
    together)."""
    runs, samples = _runs_on_every_channel(tmp_path, CHANNELS, 10, "reset%3Dlit:300s")
    for channel, (run, truth_s, got) in enumerate(zip(runs, _truths_s(CHANNELS), samples)):
        assert run["state"] == "completed", run
        assert [e["name"] for e in run["events"]].count("resumed") == 1, channel
        assert run["summary"]["t50_s"] == pytest.approx(truth_s, rel=0.03), channel
        seqs = [row[got["columns"].index("seq")] for row in got["rows"]]
        assert seqs == list(range(len(seqs))), channel


def test_a_card_that_stops_answering_fails_its_channels_run_alone(tmp_path):
    """Card 2's meter and ADC stop answering at 200 s of its pixel's lit time: the run on
    channel 2 ends failed with the board's I2C fault, the runs on the other three channels
    complete with their pixels' T50."""
    runs, samples = _runs_on_every_channel(tmp_path, 4, "max", "card_fail=2@lit:200s")
    failed, got = runs[2], samples[2]
    assert failed["state"] == "failed" and "i2c" in (failed["error"] or "").lower(), failed
    last_t_s = max(row[got["columns"].index("t_s")] for row in got["rows"])
    assert 190 <= last_t_s <= 205, last_t_s  # (its samples end where its card failed)
    truths_s = _truths_s(4)
    for channel in (0, 1, 3):
        run = runs[channel]
        assert run["state"] == "completed", run
        assert run["summary"]["t50_s"] == pytest.approx(truths_s[channel], rel=0.03), channel
