"""`lumenrig export` then `lumenrig analyze` gives back the service's summary of the run, to
the last bit, for every kind of run (real service, simulated rigs, the CLI as a user runs it)."""

import json
import subprocess

import httpx
import pytest

from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, follow_stream

RUNS = {  # kind: (rig, params)
    "lifetime": ("rig1", {"target_l0_cd_m2": 50.0}),
    "photostability": ("rig2", {"duration_s": 3600, "pl_interval_s": 300,
                                "sample_period_s": 10, "dark_every_s": 900, "dark_s": 12}),
    "jvl": ("rig3", {"start_v": 0, "stop_v": 14, "step_v": 0.2, "dwell_s": 0.05}),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(service url, {kind: finished run}) with one run of each kind done."""
    folder = tmp_path_factory.mktemp("export")
    service = ServiceProcess(["sim:G2?accel=20&seed=3", "sim:film?accel=1000&seed=3",
                              "sim:G1?accel=10&seed=2"],
                             "sqlite:///%s" % (folder / "runs.sqlite"), folder).start()
    try:
        started = {}
        for kind, (rig, params) in RUNS.items():
            response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                                  json={"kind": kind, "rig": rig, "params": params})
            assert response.status_code == 201, response.text
            started[kind] = response.json()["id"]
        runs = {kind: follow_stream(service.url, run_id, timeout_s=180)["final"]
                for kind, run_id in started.items()}
        yield service.url, runs, folder
    finally:
        service.stop()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LUMENRIG), *args], capture_output=True, text=True, timeout=120,
                          env={"LUMENRIG_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("kind", list(RUNS))
def test_export_then_analyze_is_the_services_summary(finished, kind):
    url, runs, folder = finished
    run = runs[kind]
    assert run["state"] == "completed", run.get("error")
    path = folder / f"run-{kind}.csv"
    exported = _cli("export", str(run["id"]), "--server", url, "-o", str(path))
    assert exported.returncode == 0, exported.stderr
    lines = path.read_text().splitlines()
    assert lines[0] == "# lumenrig run export 1"
    meta = {line[2:].split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines
            if line.startswith("# ") and ": " in line}
    assert json.loads(meta["run"])["params"] == run["params"]
    assert json.loads(meta["run"])["board_id"] == run["board_id"]
    header = next(line for line in lines if not line.startswith("#")).split(",")
    for column in ("current_density_ma_cm2", "pl_point", "l0_point", "dark", "flags"):
        assert column in header
    analyzed = _cli("analyze", str(path), "--kind", kind)
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(analyzed.stdout) == run["summary"]


def test_analyze_of_an_export_with_the_wrong_kind_names_the_right_one(finished):
    url, runs, folder = finished
    path = folder / "run-jvl.csv"
    if not path.exists():
        assert _cli("export", str(runs["jvl"]["id"]), "--server", url, "-o",
                    str(path)).returncode == 0
    analyzed = _cli("analyze", str(path), "--kind", "lifetime")
    assert analyzed.returncode != 0
    assert "an export of a jvl run" in analyzed.stderr and "--kind jvl" in analyzed.stderr


def test_a_film_with_dark_pauses_counts_its_pl_points_on_exposure_time(finished):
    url, runs, folder = finished
    summary = runs["photostability"]["summary"]
    # A pause at the start and after every 900 s of exposure: 4 in the 3600 s run.
    assert summary["dark_pauses"] == 4
    assert summary["dark_time_s"] == pytest.approx(4 * 12.05, abs=0.2)  # + the shutter's travel
    # PL points are the first samples at or after each 300 s of exposure (10 s apart).
    assert summary["t_min_s"] % 300 < 10.1, summary
