"""`lumenrig runs`, `show`, `tag`, `note`, `--version`, the token's places and the errors, against
one real service (a token it generated in its data folder, simulated rigs, seeded runs)."""

import getpass
import json
import re
from importlib.metadata import version

import httpx
import pytest

from host.store import Store
from tests.host.cli.cli_support import TokenFileService, cli_env, lumenrig
from tests.support.service_proc import free_port, wait_for

SEEDED = 130  # more than one page of the CLI's requests (100), fewer than a full screen
SEED_KINDS = ("lifetime", "photostability", "jvl")


def _seed(url: str) -> None:
    """SEEDED finished runs on a rig of their own, tagged `seeded`, before the service starts."""
    with Store(url) as store:
        store.upsert_rig("bench9", "sim:G1")
        for i in range(SEEDED):
            labels = {"device": {"name": "S%d" % i}, "operator": "ana",
                      "notes": "seeded run %d" % i, "tags": ["seeded"]}
            run = store.create_run("bench9", SEED_KINDS[i % 3], {}, labels=labels)
            store.update_run(run.id, state="running")
            store.update_run(run.id, state="completed", summary={"l0_cd_m2": 50.0 + i})


def _finish(service, body: dict) -> int:
    started = httpx.post(service.url + "/api/runs", json=body, headers=service.auth, timeout=30)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_for(lambda: httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()["state"]
             == "completed", 60, "run %d to complete" % run_id)
    return run_id


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-find")
    (folder / "data").mkdir()
    url = "sqlite:///%s" % (folder / "find.sqlite")
    _seed(url)
    proc = TokenFileService(["sim:G1?accel=max&seed=21", "film=sim:film?accel=max&seed=22"],
                            url, folder / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def runs(service) -> dict[str, int]:
    """One finished run of each kind, newer than every seeded one: kind -> id."""
    return {
        "lifetime": _finish(service, {
            "kind": "lifetime", "rig": "rig1", "tags": ["pe"],
            "device": {"name": "G1", "pixel": "B2"},
            "params": {"voltage_v": 10, "max_duration_s": 5}}),
        "photostability": _finish(service, {
            "kind": "photostability", "rig": "film",
            "params": {"duration_s": 60, "pl_interval_s": 10, "sample_period_s": 1}}),
        "jvl": _finish(service, {"kind": "jvl", "rig": "rig1"}),
    }


def _cli(service, *args, **env):
    """lumenrig ARGS --server URL, with the service's token in LUMENRIG_TOKEN unless env says."""
    env.setdefault("LUMENRIG_TOKEN", service.token)
    return lumenrig(*args, "--server", service.url, env=cli_env(**env))


def test_runs_shows_a_table_with_each_kinds_headline_figures(service, runs):
    result = _cli(service, "runs", "--limit", "3")
    assert result.returncode == 0, result.stderr
    lines = {int(line.split()[0]): line for line in result.stdout.splitlines()[1:]}
    assert set(lines) == set(runs.values())
    header = result.stdout.splitlines()[0].split()
    assert header == ["id", "kind", "rig", "state", "device", "tags", "result", "created"]
    lifetime = lines[runs["lifetime"]]
    assert re.search(r"lifetime +rig1 +completed +G1/B2 +pe +L0 \d+(\.\d+)? cd/m²", lifetime)
    assert re.search(r"PL min 0\.\d+, final 0\.\d+", lines[runs["photostability"]])
    assert re.search(r"CE max \d[\d.]* cd/A, EQE max \d[\d.]* %", lines[runs["jvl"]])


def test_runs_json_follows_next_cursor_up_to_the_limit(service, runs):
    first = json.loads(_cli(service, "runs", "--json", "--tag", "seeded", "--limit", "120").stdout)
    ids = [run["id"] for run in first]
    assert len(ids) == 120 and ids == sorted(ids, reverse=True)
    every = json.loads(_cli(service, "runs", "--json", "--tag", "seeded", "--limit", "500").stdout)
    assert [run["id"] for run in every[:120]] == ids and len(every) == SEEDED
    assert {"figures", "device", "tags", "operator", "notes"} <= set(every[0])


def test_runs_passes_each_filter_to_the_service(service, runs):
    jvl = _cli(service, "runs", "--json", "--kind", "jvl", "--state", "completed", "--rig", "rig1")
    assert [run["id"] for run in json.loads(jvl.stdout)] == [runs["jvl"]]
    found = json.loads(_cli(service, "runs", "--json", "--q", "SEEDED RUN 7").stdout)
    assert sorted(run["notes"] for run in found) == ["seeded run 7", "seeded run 70",
                                                      "seeded run 71", "seeded run 72",
                                                      "seeded run 73", "seeded run 74",
                                                      "seeded run 75", "seeded run 76",
                                                      "seeded run 77", "seeded run 78",
                                                      "seeded run 79"]
    hidden = "%s/api/runs/%d" % (service.url, found[0]["id"])
    httpx.post(hidden + "/archive", headers=service.auth, timeout=60).raise_for_status()
    try:
        archived = json.loads(_cli(service, "runs", "--json", "--archived").stdout)
    finally:
        httpx.post(hidden + "/unarchive", headers=service.auth, timeout=60).raise_for_status()
    assert [run["id"] for run in archived] == [found[0]["id"]]


def test_tag_adds_and_removes_and_note_sets_notes_recording_the_os_user(service, runs):
    run_id = runs["photostability"]
    added = _cli(service, "tag", str(run_id), "film", "aged", "film")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "run %d tags: film, aged" % run_id
    removed = _cli(service, "tag", str(run_id), "film", "--remove")
    assert removed.stdout.strip() == "run %d tags: aged" % run_id
    noted = _cli(service, "note", str(run_id), "laser spot re-centred")
    assert noted.returncode == 0, noted.stderr
    run = httpx.get("%s/api/runs/%d" % (service.url, run_id), timeout=60).json()
    assert run["tags"] == ["aged"] and run["notes"] == "laser spot re-centred"
    edits = [e["data"] for e in run["events"] if e["name"] == "edited"]
    assert [(e["field"], e["by"]) for e in edits] == [
        ("tags", getpass.getuser()), ("tags", getpass.getuser()), ("notes", getpass.getuser())]


def test_the_token_is_found_in_the_data_dir_from_any_folder(service, runs, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_id = str(runs["jvl"])
    by_flag = lumenrig("note", run_id, "found by --data-dir", "--server", service.url,
                       "--data-dir", str(service.data_dir), env=cli_env(), cwd=elsewhere)
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = lumenrig("note", run_id, "found by LUMENRIG_DATA_DIR", "--server", service.url,
                      env=cli_env(LUMENRIG_DATA_DIR=str(service.data_dir)), cwd=elsewhere)
    assert by_env.returncode == 0, by_env.stderr
    assert httpx.get("%s/api/runs/%s" % (service.url, run_id), timeout=60).json()["notes"] == (
        "found by LUMENRIG_DATA_DIR")


def test_without_a_token_a_change_is_refused_saying_where_it_looked(service, runs, tmp_path):
    result = lumenrig("note", str(runs["jvl"]), "x", "--server", service.url,
                      env=cli_env(LUMENRIG_DATA_DIR=str(tmp_path)), cwd=tmp_path)
    assert result.returncode == 2
    assert "no token: give --token, set LUMENRIG_TOKEN" in result.stderr
    assert str(tmp_path / "token") in result.stderr
    wrong = _cli(service, "abort", str(runs["jvl"]), "--token", "not-the-token-at-all")
    assert wrong.returncode == 2
    assert "401: wrong bearer token" in wrong.stderr


def test_a_refused_request_prints_the_service_detail_and_exits_2(service, runs):
    missing = _cli(service, "show", "99999")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert re.fullmatch(r"error: 404: .*99999.*\n", missing.stderr)
    finished = _cli(service, "abort", str(runs["lifetime"]))
    assert finished.returncode == 2
    assert "error: 409: run %d is already completed" % runs["lifetime"] in finished.stderr


def test_an_unreachable_service_exits_1_with_one_line(tmp_path):
    result = lumenrig("runs", "--server", "http://127.0.0.1:%d" % free_port(), env=cli_env())
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach http://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_runs_since_and_until_split_the_runs_at_a_creation_time(service, runs):
    first_new = httpx.get("%s/api/runs/%d" % (service.url, runs["lifetime"]), timeout=60).json()
    since = json.loads(_cli(service, "runs", "--json", "--since", first_new["created_at"]).stdout)
    assert sorted(run["id"] for run in since) == sorted(runs.values())
    until = json.loads(_cli(service, "runs", "--json", "--until", first_new["created_at"],
                            "--limit", "500").stdout)
    assert not {run["id"] for run in until} & set(runs.values()) and len(until) == SEEDED
    refused = _cli(service, "runs", "--since", "last tuesday")
    assert refused.returncode == 2 and "since" in refused.stderr


def test_bad_flag_values_get_typers_own_error():
    for args, message in ((("runs", "--kind", "film"), "Invalid value for '--kind'"),
                          (("show", "two"), "Invalid value for 'run_id'")):
        result = lumenrig(*args, env=cli_env())
        assert result.returncode == 2
        assert message in " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())


def test_version_is_the_installed_distributions():
    result = lumenrig("--version", env=cli_env())
    assert result.returncode == 0
    assert result.stdout.strip() == "lumenrig " + version("lumenrig")


def test_backup_copies_the_served_database_and_refuses_what_it_cannot_copy(service, runs,
                                                                           tmp_path):
    copy = tmp_path / "copy" / "lumenrig.sqlite"
    result = lumenrig("backup", str(copy), "--db", service.db_url, env=cli_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(copy)) and "MB" in result.stdout
    with Store("sqlite:///%s" % copy) as copied:
        assert copied.get_run(runs["lifetime"]).device["name"] == "G1"
        with Store(service.db_url) as live:
            assert copied.sample_count(runs["lifetime"]) == live.sample_count(runs["lifetime"])
        assert len(copied.list_runs(limit=1000)) == SEEDED + len(runs)
    again = lumenrig("backup", str(copy), "--db", service.db_url, env=cli_env())
    assert again.returncode == 1 and "exists already" in again.stderr
    empty = lumenrig("backup", str(tmp_path / "x.sqlite"),
                     env=cli_env(LUMENRIG_DATA_DIR=str(tmp_path / "nothing")))
    assert empty.returncode == 1
    assert "no database at %s" % (tmp_path / "nothing" / "lumenrig.sqlite") in empty.stderr
    pg = lumenrig("backup", str(tmp_path / "y.sqlite"), "--db",
                  "postgresql+psycopg://lab:secret@db.example/lumenrig", env=cli_env())
    assert pg.returncode == 1 and "pg_dump" in pg.stderr and "secret" not in pg.stderr
