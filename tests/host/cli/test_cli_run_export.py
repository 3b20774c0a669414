"""`lumenrig run` follows a run to its end and prints the summary; `export` writes its samples."""

import csv
import io
import json
import os
import subprocess

import pytest

from tests.support.service_proc import LUMENRIG, TOKEN, ServiceProcess


@pytest.fixture
def service(tmp_path):
    proc = ServiceProcess(["sim:G1?accel=50&seed=8"], "sqlite:///%s" % (tmp_path / "cli.sqlite"),
                          tmp_path).start()
    yield proc
    proc.stop()


def _lumenrig(*args, timeout_s=120):
    return subprocess.run([str(LUMENRIG), *args], capture_output=True, text=True,
                          timeout=timeout_s, env=dict(os.environ, LUMENRIG_TOKEN=TOKEN))


def test_run_prints_the_summary_and_export_writes_every_sample(service):
    result = _lumenrig("run", "lifetime", "-p", "voltage_v=10", "-p", "max_duration_s=60",
                       "--server", service.url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["stop_reason"] == "max_duration"
    assert summary["l0_cd_m2"] == pytest.approx(50, rel=0.05)
    assert "run 1 started on rig1" in result.stderr

    exported = _lumenrig("export", "1", "--format", "csv", "--server", service.url)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines(keepends=True)
    assert lines[0] == "# lumenrig run export 1\n"
    rows = list(csv.DictReader(io.StringIO("".join(ln for ln in lines if ln[0] != "#"))))
    assert [int(r["seq"]) for r in rows] == list(range(len(rows))) and len(rows) > 20
    assert float(rows[-1]["t_s"]) <= 61

    as_json = json.loads(_lumenrig("export", "1", "--format", "json",
                                   "--server", service.url).stdout)
    assert as_json["state"] == "completed" and len(as_json["samples"]["rows"]) == len(rows)


def test_run_with_a_bad_parameter_shows_the_api_message_and_fails(service):
    result = _lumenrig("run", "lifetime", "-p", "voltage_v=50", "--server", service.url)
    assert result.returncode == 2
    assert "422" in result.stderr and "voltage_v" in result.stderr


def test_run_without_a_rig_takes_the_services_one_rig_and_asks_when_it_has_two(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    one = ServiceProcess(["bench=sim:G1?accel=max&seed=8"],
                         "sqlite:///%s" % (tmp_path / "one.sqlite"), tmp_path / "one").start()
    try:
        result = _lumenrig("run", "lifetime", "-p", "voltage_v=10", "-p", "max_duration_s=5",
                           "--no-follow", "--server", one.url)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["rig"] == "bench"
    finally:
        one.stop()
    two = ServiceProcess(["bench=sim:G1?accel=max&seed=8", "film=sim:film?accel=max"],
                         "sqlite:///%s" % (tmp_path / "two.sqlite"), tmp_path / "two").start()
    try:
        result = _lumenrig("run", "lifetime", "-p", "voltage_v=10", "--server", two.url)
        assert result.returncode == 2
        assert "--rig" in result.stderr and "bench, film" in result.stderr, result.stderr
    finally:
        two.stop()
