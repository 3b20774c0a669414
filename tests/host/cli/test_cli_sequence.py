"""`lumenrig sequence`: start a recipe on a rig, show its steps, list, follow, abort, and a
refused recipe naming each step and field. One real service with a fast simulated G1."""

import json
import re

import httpx
import pytest

from tests.host.cli.cli_support import (
    cli_env,
    first_stderr_line,
    interrupt,
    lumenrig,
    start_lumenrig,
)
from tests.support.paths import REPO
from tests.support.service_proc import TOKEN, ServiceProcess, wait_for

ENDED = ("completed", "aborted", "failed")
# A short sequence: one quick sweep (for --follow without waiting on a lifetime).
SHORT = "name: one sweep\nsteps:\n  - kind: jvl\n    params: {stop_v: 9.0, step_v: 0.5, dwell_s: 0.1}\n"
# A stress that outlasts the test: it is there to be interrupted and aborted.
LONG = """name: long stress
steps:
  - kind: lifetime
    params: {voltage_v: 10.0, stop_fraction: 0.05, max_duration_s: 3600}
  - kind: jvl
    params: {stop_v: 10.0}
"""
# Two bad steps: a voltage beyond the board and a check-up above the stress voltage.
BAD = """name: bad
steps:
  - kind: jvl
  - kind: lifetime
    params: {voltage_v: 99}
  - kind: lifetime
    params: {voltage_v: 10}
    checkups:
      every_s: 60
      step: {kind: jvl, params: {start_v: 8, stop_v: 12}}
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-sequence")
    proc = ServiceProcess(["sim:G1?accel=50&seed=1"], "sqlite:///%s" % (folder / "seq.sqlite"),
                          folder).start()
    try:
        yield proc
    finally:
        proc.stop()


def _cli(service, *args, cwd=None):
    return lumenrig(*args, "--server", service.url, env=cli_env(LUMENRIG_TOKEN=TOKEN),
                    cwd=cwd, timeout_s=120)


def _sequence(service, sequence_id: int) -> dict:
    return httpx.get("%s/api/sequences/%d" % (service.url, sequence_id), timeout=60).json()


def _until_ended(service, sequence_id: int, timeout_s: float = 120) -> dict:
    return wait_for(lambda: (s := _sequence(service, sequence_id))["state"] in ENDED and s,
                    timeout_s, "sequence %d to end" % sequence_id, interval_s=0.5)


def _started_id(stderr: str, rig: str = "rig1") -> int:
    found = re.search(r"^sequence (\d+) started on %s: " % rig, stderr, re.M)
    assert found, stderr
    return int(found.group(1))


def test_start_a_bundled_recipe_then_show_lists_each_step_with_its_run(service):
    started = _cli(service, "sequence", "start", "recipes/jvl-before-after.yaml", "--rig",
                   "rig1", cwd=REPO)
    assert started.returncode == 0, started.stderr
    sequence_id = _started_id(started.stderr)
    assert started.stdout == "%d\n" % sequence_id
    assert ("`lumenrig sequence show %d` to see it, `lumenrig sequence abort %d` to stop it"
            % (sequence_id, sequence_id)) in started.stderr
    final = _until_ended(service, sequence_id)
    assert final["state"] == "completed", final
    assert final["name"] == "J-V-L, CV lifetime at 10 V to T50, J-V-L"

    shown = _cli(service, "sequence", "show", str(sequence_id))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == ("sequence %d: J-V-L, CV lifetime at 10 V to T50, J-V-L on rig1 "
                        "channel 0, completed" % sequence_id)
    runs = [s["run_id"] for s in final["steps"]]
    for index, kind in enumerate(("jvl", "lifetime", "jvl")):
        assert re.search(r"^ *%d +%s +completed +%d +– " % (index, kind, runs[index]),
                         shown.stdout, re.M), shown.stdout
    assert re.search(r"^ *1 +lifetime .* T50 ", shown.stdout, re.M), shown.stdout
    as_json = json.loads(_cli(service, "sequence", "show", str(sequence_id), "--json").stdout)
    assert as_json == _sequence(service, sequence_id)

    listed = _cli(service, "sequence", "list", "--rig", "rig1", "--state", "completed")
    assert re.search(r"^ *%d +J-V-L, CV lifetime at 10 V to T50, J-V-L +rig1 +completed +3/3 "
                     % sequence_id, listed.stdout, re.M), listed.stdout


def test_a_refused_recipe_names_each_step_and_field_and_starts_nothing(service, tmp_path):
    before = httpx.get(service.url + "/api/sequences", timeout=60).json()["sequences"]
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = _cli(service, "sequence", "start", str(path), "--rig", "rig1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: 422: %s was refused (steps count from 0):\n"
                                     % path), result.stderr
    assert ("\n  step 1 (lifetime): params.voltage_v: Input should be less than or equal to "
            "19.995 (got 99)\n") in result.stderr
    assert ("\n  step 2 (lifetime): checkups.step.params.stop_v 12 V is above the stress "
            "voltage 10 V") in result.stderr
    assert httpx.get(service.url + "/api/sequences", timeout=60).json()["sequences"] == before


def test_a_file_that_is_no_recipe_is_refused_before_the_service_is_asked(service, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps:\n  - kind: jvl\n   params: {}\n")
    result = _cli(service, "sequence", "start", str(path), "--rig", "rig1")
    assert result.returncode == 2
    assert re.fullmatch(r"error: %s line 4, column 4: bad YAML: .*\n" % re.escape(str(path)),
                        result.stderr), result.stderr
    with_rig = tmp_path / "with-rig.yaml"
    with_rig.write_text("rig: rig1\nsteps: [{kind: jvl}]\n")
    refused = _cli(service, "sequence", "start", str(with_rig), "--rig", "rig1")
    assert refused.returncode == 2 and "names rig 'rig1'" in refused.stderr


def test_follow_shows_the_steps_and_ends_with_the_table(service, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text(SHORT)
    result = _cli(service, "sequence", "start", str(path), "--rig", "rig1", "--follow")
    assert result.returncode == 0, result.stderr
    sequence_id = _started_id(result.stderr)
    assert result.stdout.startswith("sequence %d: one sweep on rig1 channel 0, completed\n"
                                    % sequence_id)
    assert re.search(r"^ *0 +jvl +completed +\d+ ", result.stdout, re.M), result.stdout


def test_ctrl_c_leaves_the_sequence_going_and_abort_stops_it(service, tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(LONG)
    proc = start_lumenrig("sequence", "start", str(path), "--rig", "rig1", "--follow",
                          "--server", service.url, env=cli_env(LUMENRIG_TOKEN=TOKEN))
    try:
        sequence_id = _started_id(first_stderr_line(proc))
        wait_for(lambda: _sequence(service, sequence_id)["steps"][0]["state"] == "running",
                 60, "the stress to run")
        _, err = interrupt(proc)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert ("sequence %d goes on on rig1; `lumenrig sequence show %d` to see it"
            % (sequence_id, sequence_id)) in err
    assert "Traceback" not in err
    assert _sequence(service, sequence_id)["state"] == "running"

    aborted = _cli(service, "sequence", "abort", str(sequence_id))
    assert (aborted.returncode, aborted.stdout) == (0, "aborted\n"), aborted.stderr
    view = _sequence(service, sequence_id)
    assert [s["state"] for s in view["steps"]] == ["aborted", "pending"]
    again = _cli(service, "sequence", "abort", str(sequence_id))
    assert again.returncode == 2
    assert again.stderr == "error: 409: sequence %d is already aborted\n" % sequence_id


def test_recipes_lists_the_bundled_ones_without_asking_a_service():
    result = lumenrig("sequence", "recipes", env=cli_env())
    assert result.returncode == 0, result.stderr
    for name in ("jvl-before-after", "cv-lifetime-with-checkups", "cc-lifetime-with-checkups",
                 "film-photostability-isos-l"):
        assert re.search(r"^%s +" % name, result.stdout, re.M), result.stdout
