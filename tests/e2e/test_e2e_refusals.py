"""What a rig cannot measure is refused, over the HIL: a drive beyond the rig (422), a
photostability run with no photoluminescence (failed, laser off), a rig without a laser (409)."""

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, follow_stream, wait_for


@pytest.fixture
def service(tmp_path, request):
    spec, env = request.param
    proc = ServiceProcess([spec], "sqlite:///%s" % (tmp_path / "e2e.sqlite"), tmp_path,
                          env=env).start()
    yield proc
    proc.stop()


def _post(url: str, kind: str, params: dict) -> httpx.Response:
    return httpx.post(url + "/api/runs", json={"kind": kind, "rig": "rig1", "params": params},
                      headers=AUTH, timeout=30)


def _device_flags(url: str) -> dict:
    flags = httpx.get(url + "/api/rigs/rig1", timeout=60).json()["device"]["flags"]
    return flags if flags is not None else {}


@pytest.mark.parametrize("service", [("sim:G1?accel=100&seed=1", None)], indirect=True)
def test_a_current_density_beyond_the_compliance_is_422_and_leaves_no_run(service):
    # 1e5 mA/cm2 on the 1 mm2 pixel is 1 A: far beyond the 4 mA compliance.
    response = _post(service.url, "lifetime", {"current_density_ma_cm2": 1e5})
    assert response.status_code == 422, response.text
    assert "not below compliance_a" in response.json()["detail"]
    assert httpx.get(service.url + "/api/runs", timeout=60).json()["runs"] == []


@pytest.mark.parametrize("service", [("sim:G1?accel=100&seed=1", None)], indirect=True)
def test_photostability_without_photoluminescence_fails_at_its_first_point(service):
    # An LED under the laser: no film, so the photodiode reads its dark current alone.
    response = _post(service.url, "photostability", {"duration_s": 3600, "pl_interval_s": 60})
    assert response.status_code == 201, response.text
    final = follow_stream(service.url, response.json()["id"], timeout_s=60)["final"]
    assert final["state"] == "failed"
    assert "no photoluminescence" in final["error"]
    assert final["progress"] < 0.05  # stopped at its first point, not run to the end
    wait_for(lambda: _device_flags(service.url).get("laser_on") is False, 30,
             "the laser off after the refusal")


@pytest.mark.parametrize("service", [("sim:film?accel=100&seed=1", {"LUMENRIG_SIM_LASER": "0"})],
                         indirect=True)
def test_a_rig_without_a_laser_refuses_photostability_with_409(service):
    rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
    assert "laser" not in rig["device"]["capabilities"]
    response = _post(service.url, "photostability", {"duration_s": 600, "pl_interval_s": 60})
    assert response.status_code == 409
    assert "has no laser" in response.json()["detail"]
    assert httpx.get(service.url + "/api/runs", timeout=60).json()["runs"] == []
