"""API answers bad requests with a status and a message a person can act on."""

import pytest
from fastapi.testclient import TestClient

from host.service import create_app
from host.settings import Settings

TOKEN = "t0ken-for-the-api-tests"
AUTH = {"Authorization": "Bearer " + TOKEN}


@pytest.fixture
def client(tmp_path):
    settings = Settings(db_url="sqlite:///%s" % (tmp_path / "api.sqlite"), token=TOKEN,
                        data_dir=tmp_path)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _lifetime(**params):
    return {"kind": "lifetime", "rig": "rig1", "params": params}


@pytest.mark.parametrize("body, fragment", [
    (_lifetime(voltage_v=25), "params.voltage_v"),
    (_lifetime(voltage_v=-1), "params.voltage_v"),
    (_lifetime(voltage_v="ten"), "params.voltage_v"),
    (_lifetime(), "give exactly one of voltage_v, target_l0_cd_m2, current_a, "
                      "current_density_ma_cm2 (got none)"),
        (_lifetime(current_a=1e-3, current_density_ma_cm2=5), "give exactly one"),
    (_lifetime(voltage_v=10, target_l0_cd_m2=50), "give exactly one"),
    (_lifetime(voltage_v=10, compliance_a=1.0), "params.compliance_a"),
    (_lifetime(voltage_v=10, sample_period_s=0.0001), "params.sample_period_s"),
    (_lifetime(voltage_v=10, stop_fraction=1.5), "params.stop_fraction"),
    (_lifetime(voltage_v=10, colour="green"), "unknown field"),
    ({"kind": "bake", "rig": "rig1", "params": {}}, "kind"),
    ({"kind": "jvl", "params": {"start_v": 5, "stop_v": 3}}, "stop_v must be above start_v"),
    ({"kind": "photostability", "params": {"duration_s": 60, "pl_interval_s": 300}},
     "pl_interval_s must not exceed duration_s"),
    ({"kind": "lifetime", "rig": "../etc", "params": {"voltage_v": 5}}, "rig"),
])
def test_out_of_range_or_malformed_run_body_is_422_with_a_message(client, body, fragment):
    response = client.post("/api/runs", json=body, headers=AUTH)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_body_that_is_not_json_is_422(client):
    response = client.post("/api/runs", content=b"{not json", headers=dict(
        AUTH, **{"content-type": "application/json"}))
    assert response.status_code == 422
    assert response.json()["detail"]


def test_huge_body_is_refused_with_413(client):
    response = client.post("/api/runs", content=b"x" * (3 * 1024 * 1024), headers=dict(
        AUTH, **{"content-type": "application/json"}))
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-123456"},
                                     {"Authorization": "Basic " + TOKEN},
                                     {"Authorization": "Bearer"}])
def test_post_without_the_right_token_is_401(client, headers):
    response = client.post("/api/runs", json=_lifetime(voltage_v=5), headers=headers)
    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]


def test_unknown_rig_is_404(client):
    response = client.post("/api/runs", json=_lifetime(voltage_v=5), headers=AUTH)
    assert response.status_code == 404
    assert "no rig named 'rig1'" in response.json()["detail"]
    assert client.get("/api/rigs/nope").status_code == 404


@pytest.mark.parametrize("path", ["/api/runs/999", "/api/runs/999/samples",
                                  "/api/runs/999/samples.csv", "/api/runs/999/export.csv",
                                  "/api/runs/999/stream", "/api/runs/999/plot.png"])
def test_unknown_run_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "999" in response.json()["detail"]


def test_abort_of_unknown_run_is_404(client):
    assert client.post("/api/runs/999/abort", headers=AUTH).status_code == 404


def test_reads_are_open_on_a_loopback_bind(client):
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/api/runs").json()["runs"] == []


def test_every_endpoint_needs_the_token_on_a_non_loopback_bind(tmp_path):
    settings = Settings(db_url="sqlite:///%s" % (tmp_path / "api.sqlite"), token=TOKEN,
                        data_dir=tmp_path, host="0.0.0.0")
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/health").status_code == 401
        assert c.get("/api/runs").status_code == 401
        assert c.get("/api/runs", headers=AUTH).status_code == 200


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/runs" in client.get("/openapi.json").json()["paths"]


def _calibration(**changes):
    from hil_sim.optics import calibration

    body = calibration("G1").model_dump(mode="json")
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            body[outer] = dict(body[outer], **{inner: value})
        else:
            body[key] = value
    return body


def _curve(n, start=400.0, step=0.05):
    return [start + i * step for i in range(n)]


@pytest.mark.parametrize("changes, fragment", [
    ({"pixel_area_mm2": 5e-324}, "pixel_area_mm2"),
    ({"pixel_area_mm2": 1e-300}, "pixel_area_mm2"),
    ({"pixel_area_mm2": 0}, "pixel_area_mm2"),
    ({"pixel_area_mm2": 1e6}, "pixel_area_mm2"),
    ({"pd_radius_mm": 1e-9}, "pd_radius_mm"),
    ({"pd_radius_mm": 100}, "pd_radius_mm"),
    ({"pd_distance_mm": 1e-9}, "pd_distance_mm"),
    ({"pd_distance_mm": 5000}, "pd_distance_mm"),
    ({"dark_current_a": 1.0}, "dark_current_a"),
    ({"scale_factor": 0}, "scale_factor"),
    ({"scale_factor": 1e9}, "scale_factor"),
    ({"responsivity.wavelength_nm": [300.0, 600.0, 1000.0],
      "responsivity.a_per_w": [1e-12, 1e-12, 1e-12]}, "no photodiode is that blind"),
    ({"responsivity.wavelength_nm": [300.0, 600.0, 1000.0],
      "responsivity.a_per_w": [2.0, 2.0, 2.0]}, "quantum-efficiency"),
    ({"responsivity.wavelength_nm": [300.0, 600.0, 1000.0],
      "responsivity.a_per_w": [-0.1, 0.3, 0.3]}, "negative"),
    ({"responsivity.wavelength_nm": [700.0, 600.0, 500.0],
      "responsivity.a_per_w": [0.3, 0.3, 0.3]}, "increase strictly"),
    ({"reference_spectrum.wavelength_nm": [100.0, 110.0, 120.0],
      "reference_spectrum.intensity": [1.0, 1.0, 1.0]}, "outside"),
    ({"reference_spectrum.intensity": None}, "reference_spectrum"),
    ({"reference_spectrum.wavelength_nm": _curve(10_001),
      "reference_spectrum.intensity": [1.0] * 10_001}, "10000"),
])
def test_a_calibration_that_is_not_physical_is_422_naming_the_field(client, changes, fragment):
    response = client.put("/api/rigs/rig1/calibration", json=_calibration(**changes),
                          headers=AUTH)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]


def test_a_photodiode_blind_where_the_device_emits_is_422(client):
    # Sensitive only in the near IR, while the G1 spectrum peaks at 522 nm.
    body = _calibration(**{"responsivity.wavelength_nm": [300.0, 700.0, 800.0, 1000.0],
                           "responsivity.a_per_w": [0.0, 0.0, 0.5, 0.5]})
    response = client.put("/api/rigs/rig1/calibration", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "blind" in response.json()["detail"]


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in px from a PNG's IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _stored_runs(url: str) -> dict[str, int]:
    """A finished run of each kind written straight into the store: {kind: run id}."""
    import numpy as np

    from host.runs.kinds import KINDS
    from host.store import Store
    from protocol import schema

    n = 300
    t_s = np.arange(n, dtype=float)
    ones = np.ones(n)
    lit = schema.FLAG_OUTPUT_ON | schema.FLAG_INTERLOCK_OK
    voltage = np.linspace(0.0, 14.0, n)
    columns = {
        "lifetime": {"voltage_v": 10 * ones, "current_a": 2e-4 * (1 - t_s / 2000),
                     "luminance_cd_m2": 50.0 * np.exp(-((t_s / 250) ** 0.8)),
                     "flags": np.full(n, lit)},
        "photostability": {"voltage_v": 0 * ones, "current_a": 0 * ones,
                           "pl": 1e-7 * np.exp(-t_s / 600), "shutter_open": ones,
                           "flags": np.where(t_s % 30 == 0, lit | schema.FLAG_PL_POINT, lit)},
        "jvl": {"voltage_v": voltage, "current_a": 1e-6 * np.expm1(voltage / 2),
                "luminance_cd_m2": 1e-2 * np.expm1(voltage / 1.8),
                "flags": np.full(n, lit | schema.FLAG_STEP_END)},
    }
    params = {"lifetime": {"voltage_v": 10.0, "stop_fraction": 0.5}, "photostability": {},
              "jvl": {}}
    ids = {}
    with Store(url) as store:
        store.upsert_rig("rig1", "sim:G1")
        store.set_calibration("rig1", _calibration())
        for kind, cols in columns.items():
            cols = dict(cols, seq=np.arange(n), t_s=t_s, setpoint_v=cols["voltage_v"],
                        pd_a=1e-9 * ones, temperature_c=26 * ones, humidity_pct=60 * ones,
                        pd_range=np.zeros(n, dtype=int))
            run = store.create_run("rig1", kind, params[kind])
            store.update_run(run.id, state="running")
            store.insert_samples(run.id, cols)
            summary = KINDS[kind].summarize(params[kind], run.calibration,
                                            store.read_samples(run.id), [])
            store.update_run(run.id, state="completed", progress=1.0, summary=summary)
            ids[kind] = run.id
    return ids


@pytest.fixture
def stored(tmp_path):
    """A client of a service whose store holds a finished run of each kind."""
    url = "sqlite:///%s" % (tmp_path / "plots.sqlite")
    ids = _stored_runs(url)
    with TestClient(create_app(Settings(db_url=url, token=TOKEN, data_dir=tmp_path))) as c:
        yield c, ids


def test_plot_png_is_at_least_1600_px_wide_by_default_for_every_kind(stored):
    client, ids = stored
    for kind, run_id in ids.items():
        response = client.get("/api/runs/%d/plot.png" % run_id)
        assert response.status_code == 200, (kind, response.text)
        assert response.headers["content-type"] == "image/png"
        width, height = _png_size(response.content)
        assert width >= 1600 and height >= 1000, (kind, width, height)


def test_plot_png_is_drawn_at_the_dpi_asked_for(stored):
    client, ids = stored
    default = _png_size(client.get("/api/runs/%d/plot.png" % ids["lifetime"]).content)
    for dpi in (100, 300):
        response = client.get("/api/runs/%d/plot.png" % ids["lifetime"], params={"dpi": dpi})
        assert response.status_code == 200
        width, height = _png_size(response.content)
        assert width == pytest.approx(default[0] * dpi / 200, abs=1)
        assert height == pytest.approx(default[1] * dpi / 200, abs=1)


@pytest.mark.parametrize("dpi", ["49", "401", "0", "-100", "1e9", "150.5", "high"])
def test_plot_png_refuses_a_dpi_that_is_not_a_bounded_integer_with_422(stored, dpi):
    client, ids = stored
    response = client.get("/api/runs/%d/plot.png" % ids["lifetime"], params={"dpi": dpi})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("dpi: "), response.json()
