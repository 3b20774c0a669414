"""The simulator is deterministic: the same seed gives the same stored samples at any pace and
any machine load (hil_sim/README.md, "Device time").

Each profile runs three times on a fresh simulated board through the whole chain (service,
pty, real MicroPython firmware): paced, as fast as the CPU allows, and as fast as it allows
with every core kept busy beside it.  The stored rows hold no wall-clock field, so they
must be equal, every column of every row.
"""

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, busy_cores, follow_stream

pytestmark = pytest.mark.micropython

# name: (preset, kind, params, paced accel).  The film's two device hours go at accel 1000
# rather than 20 (six wall minutes would be most of the suite); any accel that paces serves.
PROFILES = {
    "g1_lifetime": ("G1", "lifetime", {"voltage_v": 10.0, "sample_period_s": 1.0,
                                       "host_loss_grace_s": 30}, 20),
    "film_photostability": ("film", "photostability", {"duration_s": 7200, "pl_interval_s": 300,
                                                       "sample_period_s": 10}, 1000),
    "g1_jvl": ("G1", "jvl", {"start_v": 0, "stop_v": 14, "step_v": 0.1, "dwell_s": 0.05}, 20),
}
SEED = 4


def stored_run(folder, preset, kind, params, accel):
    """(rows, summary) of one run on a fresh service and a fresh simulated board in folder."""
    folder.mkdir()
    service = ServiceProcess([f"sim:{preset}?accel={accel}&seed={SEED}"],
                             "sqlite:///%s" % (folder / "runs.sqlite"), folder).start()
    try:
        response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                              json={"kind": kind, "rig": "rig1", "params": params})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
        final = follow_stream(service.url, run_id, timeout_s=240)["final"]
        assert final["state"] == "completed", final
        rows = httpx.get("%s/api/runs/%d/samples" % (service.url, run_id),
                         timeout=60).json()["rows"]
    finally:
        service.stop()
    return rows, final["summary"]


@pytest.mark.parametrize("name", list(PROFILES))
def test_the_same_seed_stores_the_same_samples_at_any_pace_and_load(tmp_path, name):
    preset, kind, params, paced_accel = PROFILES[name]
    paced, paced_summary = stored_run(tmp_path / "paced", preset, kind, params, paced_accel)
    fastest, _ = stored_run(tmp_path / "fastest", preset, kind, params, "max")
    with busy_cores():
        loaded, loaded_summary = stored_run(tmp_path / "loaded", preset, kind, params, "max")
    assert len(paced) > 100
    assert [row[0] for row in paced] == list(range(len(paced)))
    assert fastest == paced, _first_difference(paced, fastest)
    assert loaded == paced, _first_difference(paced, loaded)
    assert loaded_summary == paced_summary


def _first_difference(expected, got):
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return f"row {i}: {a} != {b}"
    return f"{len(expected)} rows != {len(got)} rows"
