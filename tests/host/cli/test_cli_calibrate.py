"""`lumenrig calibrate`: a file, a run's version or --show, against one real service (two
simulated G1 rigs, a token it generated in its data folder); the example file in docs."""

import json
import re
from pathlib import Path

import httpx
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from hil_sim.optics import calibration as simulated_calibration
from host.cli.calibrate_cmds import read_calibration
from host.store import Store
from tests.host.cli.cli_support import TokenFileService, cli_env, lumenrig
from tests.support.service_proc import free_port, wait_for

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "calibration-g1.json"
STORED = re.compile(r"calibration (\d+) set on (\S+) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n")
RUN_S = 5  # device seconds of each lifetime run (the rigs run as fast as they can)


def _example(**changes) -> dict:
    calibration = json.loads(EXAMPLE.read_text())
    calibration.update(changes)
    return calibration


def _file(folder: Path, calibration: dict, name: str = "calibration.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(calibration))
    return path


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-calibrate")
    (folder / "data").mkdir()
    url = "sqlite:///%s" % (folder / "calibrate.sqlite")
    with Store(url) as store:  # a run on a rig that never had a calibration
        store.upsert_rig("bare", "sim:G1")
        store.create_run("bare", "lifetime", {})
    proc = TokenFileService(["sim:G1?accel=max&seed=41", "spare=sim:G1?accel=max&seed=42"],
                            url, folder / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


def _cli(service, *args):
    """lumenrig ARGS --server URL, finding the token where `serve` wrote it."""
    return lumenrig(*args, "--server", service.url,
                    env=cli_env(LUMENRIG_DATA_DIR=str(service.data_dir)))


def _get(service, path: str) -> dict:
    response = httpx.get(service.url + path, timeout=60)
    response.raise_for_status()
    return response.json()


def _calibrate(service, *args) -> int:
    """The new version's id, after checking the command said it and ended well."""
    result = _cli(service, "calibrate", *args)
    assert result.returncode == 0, result.stderr
    stored = STORED.match(result.stdout)
    assert stored and stored.group(2) == args[0], result.stdout
    return int(stored.group(1))


@pytest.fixture(scope="module")
def calibrated_run(service, tmp_path_factory) -> dict:
    """rig1 given a calibration with scale factor 1.25, then a run on it on a 2 mm2 pixel:
    {"calibration_id": the version calibrate printed, "run": the run as it started}."""
    folder = tmp_path_factory.mktemp("calibrated-run")
    calibration_id = _calibrate(service, "rig1", str(_file(folder, _example(scale_factor=1.25))))
    started = _cli(service, "run", "lifetime", "-p", "voltage_v=10", "-p",
                   "max_duration_s=%d" % RUN_S, "--rig", "rig1", "--area-mm2", "2",
                   "--no-follow")
    assert started.returncode == 0, started.stderr
    run = json.loads(started.stdout)
    wait_for(lambda: _get(service, "/api/runs/%d" % run["id"])["state"] == "completed", 60,
             "run %d to complete" % run["id"])
    return {"calibration_id": calibration_id, "run": run}


def test_the_example_is_exactly_the_calibration_of_the_simulated_g1_rig():
    """Regenerate it from hil_sim.optics.calibration("G1").model_dump(mode="json") if the
    simulated rig changes."""
    assert json.loads(EXAMPLE.read_text()) == simulated_calibration("G1").model_dump(mode="json")


def test_the_example_is_accepted_as_a_new_version_and_summarised(service):
    first = _calibrate(service, "rig1", str(EXAMPLE))
    result = _cli(service, "calibrate", "rig1", str(EXAMPLE))
    second = int(STORED.match(result.stdout).group(1))
    assert second > first, "each calibrate stores a new version"
    for version_id in (first, second):
        stored = _get(service, "/api/calibrations/%d" % version_id)
        assert stored["rig"] == "rig1" and stored["calibration"] == _example()
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()[1:]]
    assert lines == [
        "photodiode radius 5.64 mm, 6 mm from the pixel on axis: 46.9 % of its light",
        "pixel area 1 mm²",
        "responsivity 17 points, 300..1100 nm, peak 0.55 A/W at 900 nm",
        "dark current 5.5 pA",
        "scale factor 1",
        "EL spectrum 257 points, 458..586 nm, peak 522 nm, FWHM 16 nm (responsivity there "
        "0.308 A/W)"]


def test_show_prints_the_current_calibration_and_its_json_goes_back_in(service, tmp_path):
    changed = _example(scale_factor=1.5, dark_current_a=7e-12)
    _calibrate(service, "rig1", str(_file(tmp_path, changed)))
    shown = _cli(service, "calibrate", "rig1", "--show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("rig1's current calibration\n")
    assert re.search(r"scale factor +1\.5\n", shown.stdout)
    assert re.search(r"dark current +7 pA\n", shown.stdout)
    as_json = _cli(service, "calibrate", "rig1", "--show", "--json")
    assert json.loads(as_json.stdout) == changed
    back = tmp_path / "shown.json"
    back.write_text(as_json.stdout)
    again = _calibrate(service, "rig1", str(back))
    assert _get(service, "/api/calibrations/%d" % again)["calibration"] == changed


@pytest.mark.parametrize("changes, message", [
    ({"scale_factor": 50}, "scale_factor: Input should be less than or equal to 10 (got 50)"),
    ({"pd_distance_mm": 0.01},
     "pd_distance_mm: Input should be greater than or equal to 0.1 (got 0.01)"),
    ({"responsivity": {"wavelength_nm": [400, 500, 600], "a_per_w": [200, 300, 400]}},
     "exceeds the 100 % quantum-efficiency limit"),
])
def test_a_field_out_of_bounds_fails_with_2_and_the_services_message(service, tmp_path,
                                                                     changes, message):
    before = _get(service, "/api/rigs/rig1")["calibration"]
    result = _cli(service, "calibrate", "rig1", str(_file(tmp_path, _example(**changes))))
    assert result.returncode == 2
    assert result.stderr.startswith("error: 422: ") and message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert _get(service, "/api/rigs/rig1")["calibration"] == before


@pytest.mark.parametrize("text, message", [
    ('{"pd_radius_mm": 5.64,\n "pd_distance_mm": }', "not JSON: Expecting value at line 2, "
                                                     "column 20"),
    ("pd_radius_mm = 5.64\n", "not JSON: Expecting value at line 1, column 1"),
    ('[{"pd_radius_mm": 5.64}]', "it holds a JSON list, not an object"),
    ('{"pd_radius_mm": NaN}', "NaN is not a JSON number"),
    ('{"pd_radius_mm": 1e999}', "1e999 is not a JSON number"),
    ("[" * 100_000, "its JSON is nested too deeply to read"),
    ('{"id": 3, "rig": "rig1", "calibration": {}, "set_at": "2026-01-01T00:00:00Z"}',
     "it holds a stored version (GET /api/calibrations/{id})"),
], ids=["unfinished", "not-json", "a-list", "nan", "overflow", "too-deep", "a-stored-version"])
def test_a_file_that_is_not_a_calibration_object_fails_with_2_before_any_request(
        tmp_path, text, message):
    path = tmp_path / "calibration.json"
    path.write_text(text)
    nobody = "http://127.0.0.1:%d" % free_port()  # checked here: no service is asked
    result = lumenrig("calibrate", "rig1", str(path), "--server", nobody, env=cli_env())
    assert result.returncode == 2
    assert result.stderr.startswith("error: %s is not a calibration file: %s" % (path, message))
    assert result.stderr.endswith("; the fields are in docs/calibration.md\n")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("read-calibration") / "calibration.json"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_are_read_as_an_object_or_refused_with_exit_2(scratch, data):
    scratch.write_bytes(data)
    try:
        assert isinstance(read_calibration(scratch), dict)
    except typer.Exit as exc:
        assert exc.exit_code == 2


@settings(max_examples=200, deadline=None)
@given(calibration=st.dictionaries(st.text().filter(lambda k: k != "calibration"), JSON_VALUES,
                                   max_size=6))
def test_any_json_object_is_read_back_as_it_was_written(scratch, calibration):
    scratch.write_text(json.dumps(calibration), encoding="utf-8")
    assert read_calibration(scratch) == calibration


def test_a_missing_file_fails_with_2_naming_it(tmp_path):
    missing = tmp_path / "nowhere" / "calibration.json"
    result = lumenrig("calibrate", "rig1", str(missing), env=cli_env())
    assert result.returncode == 2
    assert result.stderr == "error: %s: no such file\n" % missing


def test_file_from_run_and_show_are_one_choice(tmp_path):
    for args in ((), (str(EXAMPLE), "--show"), (str(EXAMPLE), "--from-run", "1"),
                 ("--show", "--from-run", "1")):
        result = lumenrig("calibrate", "rig1", *args, env=cli_env())
        assert result.returncode == 2
        assert result.stderr.startswith("error: give one of FILE, --from-run RUN_ID or --show")


def test_a_run_started_after_calibrate_names_the_new_version(service, calibrated_run):
    run = _get(service, "/api/runs/%d" % calibrated_run["run"]["id"])
    assert run["calibration_id"] == calibrated_run["calibration_id"]
    assert run["calibration"]["scale_factor"] == 1.25
    assert calibrated_run["run"]["calibration_id"] == calibrated_run["calibration_id"]


def test_from_run_copies_the_runs_version_to_a_rig_as_a_new_one(service, calibrated_run):
    run_id = calibrated_run["run"]["id"]
    source_id = calibrated_run["calibration_id"]
    result = _cli(service, "calibrate", "spare", "--from-run", str(run_id))
    assert result.returncode == 0, result.stderr
    copy_id = int(STORED.match(result.stdout).group(1))
    assert copy_id != source_id
    assert re.search(r"^copied from calibration %d \(rig1, set [\d: -]+\), which run %d was "
                     r"measured with$" % (source_id, run_id), result.stdout, re.M)
    copy = _get(service, "/api/calibrations/%d" % copy_id)
    source = _get(service, "/api/calibrations/%d" % source_id)
    assert copy["rig"] == "spare" and copy["calibration"] == source["calibration"]
    # The version, not the run's own copy, whose pixel area the run's device area replaced.
    assert _get(service, "/api/runs/%d" % run_id)["calibration"]["pixel_area_mm2"] == 2.0
    assert copy["calibration"]["pixel_area_mm2"] == 1.0
    assert _get(service, "/api/rigs/spare")["calibration"] == source["calibration"]


def test_from_run_of_a_run_without_a_calibration_fails_with_2(service):
    bare = _get(service, "/api/runs?rig=bare")["runs"]
    assert len(bare) == 1 and bare[0]["calibration_id"] is None
    result = _cli(service, "calibrate", "spare", "--from-run", str(bare[0]["id"]))
    assert result.returncode == 2
    assert result.stderr == ("error: run %d was started on a rig without a calibration: "
                             "there is none to copy\n" % bare[0]["id"])


def test_refusals_from_the_service_exit_2_and_an_absent_one_1(service, tmp_path):
    no_rig = _cli(service, "calibrate", "nosuch", str(EXAMPLE))
    assert no_rig.returncode == 2
    assert no_rig.stderr == "error: 404: no rig named 'nosuch'; rigs: rig1, spare\n"
    no_run = _cli(service, "calibrate", "rig1", "--from-run", "99999")
    assert no_run.returncode == 2 and no_run.stderr.startswith("error: 404: ")
    no_token = lumenrig("calibrate", "rig1", str(EXAMPLE), "--server", service.url,
                        env=cli_env(LUMENRIG_DATA_DIR=str(tmp_path)))
    assert no_token.returncode == 2 and "no token" in no_token.stderr
    nobody = lumenrig("calibrate", "rig1", "--show", "--server",
                      "http://127.0.0.1:%d" % free_port(), env=cli_env())
    assert nobody.returncode == 1 and nobody.stderr.startswith("error: cannot reach ")
