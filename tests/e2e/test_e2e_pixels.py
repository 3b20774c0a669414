"""A simulated rig of one pixel of a substrate (`spread`): its lifetime run gives that pixel's
T50, not the preset's (real service, firmware on the MicroPython VM, accel=max)."""

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

SEED = 7
SPREAD = 0.1


def test_a_pixel_of_a_substrate_lasts_its_own_t50(tmp_path):
    from hil_sim.optics import pd_amps_per_cd_m2
    from hil_sim.physics.bench import Bench

    truth_s = Bench("G1", SEED, pd_amps_per_cd_m2("G1"), spread=SPREAD).t50_at_s(10.0)
    assert abs(truth_s / 630 - 1) > 0.05, "this pixel differs from the preset's"
    service = ServiceProcess([f"sim:G1?accel=max&seed={SEED}&spread={SPREAD}"],
                             "sqlite:///%s" % (tmp_path / "pixel.sqlite"), tmp_path).start()
    try:
        rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
        assert rig["simulator"]["spread"] == SPREAD
        posted = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
            "kind": "lifetime", "rig": "rig1",
            "params": {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 7200}})
        assert posted.status_code == 201, posted.text
        run = wait_for(lambda: (r := httpx.get("%s/api/runs/%d" % (
            service.url, posted.json()["id"]), timeout=60).json())["state"] not in (
            "queued", "running") and r, 120, "the run to end")
    finally:
        service.stop()
    assert run["state"] == "completed", run
    assert run["summary"]["t50_s"] == pytest.approx(truth_s, rel=0.02)
