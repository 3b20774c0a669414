"""A simulated rig of channel cards (`channels`): the real service runs a lifetime run on
each channel of one board, and each gives its own pixel's T50 (firmware on the MicroPython
VM, accel=max)."""

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

SEED = 7
SPREAD = 0.05
CHANNELS = 3


def _ended(service, run_id):
    """The run once it is no longer queued or running."""
    return wait_for(lambda: (r := httpx.get("%s/api/runs/%d" % (service.url, run_id),
                                            timeout=60).json())["state"] not in (
        "queued", "running") and r, 120, "run %d to end" % run_id)


def test_each_channel_of_a_card_board_lasts_its_own_pixels_t50(tmp_path):
    from hil_sim.optics import pd_amps_per_cd_m2
    from hil_sim.physics.bench import Bench

    truths_s = [Bench("G1", SEED, pd_amps_per_cd_m2("G1"), channel=n, spread=SPREAD
                      ).t50_at_s(10.0) for n in range(CHANNELS)]
    assert max(truths_s) / min(truths_s) > 1.03, "the pixels differ"
    service = ServiceProcess([f"sim:G1?accel=max&seed={SEED}&spread={SPREAD}"
                              f"&channels={CHANNELS}"],
                             "sqlite:///%s" % (tmp_path / "cards.sqlite"), tmp_path).start()
    runs = []
    try:
        rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
        assert rig["simulator"]["channels"] == CHANNELS
        assert [c["channel"] for c in rig["device"]["channels"]] == list(range(CHANNELS))
        for channel in range(CHANNELS):
            posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
                "kind": "lifetime", "rig": "rig1", "channel": channel,
                "params": {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 7200}})
            assert posted.status_code == 201, posted.text
            runs.append(_ended(service, posted.json()["id"]))
        replaced = httpx.post(service.url + "/api/rigs/rig1/sim/replace?channel=2",
                              headers=AUTH, timeout=60)
        assert replaced.status_code == 200, replaced.text
        assert "no channel 3" in httpx.post(service.url + "/api/rigs/rig1/sim/replace?channel=3",
                                            headers=AUTH, timeout=60).text
    finally:
        service.stop()
    for channel, (run, truth_s) in enumerate(zip(runs, truths_s)):
        assert run["state"] == "completed", run
        assert run["channel"] == channel
        assert run["summary"]["t50_s"] == pytest.approx(truth_s, rel=0.03), channel
