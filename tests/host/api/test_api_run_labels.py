"""Finding, labelling and hiding runs: list filters and paging, PATCH, archive (the store
seeded directly, the API over TestClient; one real run for the device block end to end)."""

import csv
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from host.service import create_app
from host.settings import Settings
from host.store import Store
from tests.support.service_proc import AUTH as E2E_AUTH
from tests.support.service_proc import ServiceProcess, wait_for

TOKEN = "t0ken-for-the-label-tests"
AUTH = {"Authorization": "Bearer " + TOKEN}
KINDS = ("lifetime", "photostability", "jvl")
STATES = ("completed", "aborted", "failed")


def _calibration(points: int = 400) -> dict:
    """A rig calibration with a spectrum of `points` points (what lists must leave out)."""
    wavelengths = [400 + 300 * i / (points - 1) for i in range(points)]
    return {"pixel_area_mm2": 1.0, "pd_radius_mm": 5.0, "pd_distance_mm": 30.0,
            "responsivity": {"wavelength_nm": [380, 550, 720], "a_per_w": [0.2, 0.35, 0.45]},
            "reference_spectrum": {"wavelength_nm": wavelengths,
                                   "intensity": [1.0 + (i % 7) for i in range(points)]}}


def _seed(url: str, n: int) -> list[int]:
    """n finished runs over two rigs, every kind and final state, some tagged and named."""
    ids = []
    with Store(url) as store:
        for rig in ("rig1", "rig2"):
            store.upsert_rig(rig, "sim:G1")
            store.set_calibration(rig, _calibration())
        for i in range(n):
            kind = KINDS[i % 3]
            labels = {"device": {"name": "G%d" % (1 + i % 2), "sample_id": "S-%03d" % (i // 8),
                                 "pixel": "A%d" % (i % 8)},
                      "operator": "ana" if i % 5 else "ben",
                      "notes": "batch with TPBi" if i % 10 == 0 else "",
                      "tags": ["pe"] + (["aged"] if i % 4 == 0 else [])}
            run = store.create_run("rig%d" % (1 + i % 2), kind, {}, labels=labels)
            store.update_run(run.id, state="running")
            summary = {"l0_cd_m2": 50.0 + i, "t50_s": 600.0 + i, "notes": ["a note"]}
            store.update_run(run.id, state=STATES[i % 3], summary=summary)
            ids.append(run.id)
    return ids


@pytest.fixture
def seeded(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "labels.sqlite")
    ids = _seed(url, 60)
    settings = Settings(db_url=url, token=TOKEN, data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        yield client, ids


def _all_pages(client, page: int, **filters) -> list[dict]:
    runs, cursor = [], None
    while True:
        params = dict(filters, limit=page, **({"cursor": cursor} if cursor else {}))
        answer = client.get("/api/runs", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["runs"]) <= page
        runs += body["runs"]
        cursor = body["next_cursor"]
        if cursor is None:
            return runs


def test_a_thousand_runs_page_by_fifty_each_once_newest_first(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "many.sqlite")
    ids = _seed(url, 1000)
    with TestClient(create_app(Settings(db_url=url, token=TOKEN, data_dir=tmp_path))) as client:
        runs = _all_pages(client, 50)
        assert [r["id"] for r in runs] == sorted(ids, reverse=True)
        sizes = [len(json.dumps(r)) for r in runs]
        assert max(sizes) < 2048, "a list item carries no calibration or spectrum"
        assert all("calibration" not in r and "summary" not in r for r in runs)
        assert runs[-1]["calibration_id"] == 1 and runs[0]["calibration_id"] == 2
        spectrum = client.get("/api/calibrations/1").json()["calibration"]["reference_spectrum"]
        assert len(spectrum["wavelength_nm"]) == 400


def test_every_filter_is_honoured(seeded):
    client, ids = seeded
    everything = _all_pages(client, 7)
    assert len(everything) == len(ids)
    by_id = {r["id"]: r for r in everything}
    for kind in KINDS:
        assert {r["id"] for r in _all_pages(client, 7, kind=kind)} == {
            i for i, r in by_id.items() if r["kind"] == kind}
    for state in STATES:
        assert {r["id"] for r in _all_pages(client, 7, state=state)} == {
            i for i, r in by_id.items() if r["state"] == state}
    assert {r["id"] for r in _all_pages(client, 7, rig="rig2")} == {
        i for i, r in by_id.items() if r["rig"] == "rig2"}
    aged = {i for i, r in by_id.items() if "aged" in r["tags"]}
    assert aged and {r["id"] for r in _all_pages(client, 7, tag="aged")} == aged
    assert {r["id"] for r in _all_pages(client, 7, tag=["aged", "pe"])} == aged
    assert _all_pages(client, 7, tag="nope") == []
    tpbi = {i for i, r in by_id.items() if "TPBi" in r["notes"]}
    assert tpbi and {r["id"] for r in _all_pages(client, 7, q="tpbi")} == tpbi
    assert {r["id"] for r in _all_pages(client, 7, q="s-003")} == {
        i for i, r in by_id.items() if r["device"]["sample_id"] == "S-003"}
    assert {r["id"] for r in _all_pages(client, 7, q="ben")} == {
        i for i, r in by_id.items() if r["operator"] == "ben"}
    assert _all_pages(client, 7, q="100%_") == []  # LIKE's wildcards are plain text here
    now = datetime.now(UTC)
    assert len(_all_pages(client, 7, since=(now - timedelta(hours=1)).isoformat())) == len(ids)
    assert _all_pages(client, 7, since=(now + timedelta(hours=1)).isoformat()) == []
    assert _all_pages(client, 7, until=(now - timedelta(hours=1)).isoformat()) == []
    first = by_id[min(ids)]
    assert first["figures"] == {"l0_cd_m2": 50.0, "t95_s": None, "t80_s": None,
                                "t50_s": 600.0, "t50_fit_s": None, "l_end_over_l0": None}


@pytest.mark.parametrize("query, fragment", [
    ("colour=green", "unknown filter colour"),
    ("kind=bake", "kind"),
    ("state=lost", "state"),
    ("cursor=abc", "cursor"),
    ("archived=maybe", "archived"),
    ("since=yesterday", "since"),
    ("limit=0", "limit"),
])
def test_a_bad_filter_is_a_422_naming_it(seeded, query, fragment):
    client, _ = seeded
    answer = client.get("/api/runs?" + query)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


def test_edits_change_labels_only_and_each_is_an_event(seeded):
    client, ids = seeded
    run_id = ids[0]
    answer = client.patch("/api/runs/%d" % run_id, headers=AUTH, json={
        "notes": "encapsulated after test", "tags": ["pe", "encap", "pe"],
        "device": {"name": "G1b", "batch": None}, "by": "ana"})
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert run["notes"] == "encapsulated after test"
    assert run["tags"] == ["pe", "encap"]
    assert run["device"] == {"name": "G1b", "sample_id": "S-000", "pixel": "A0"}
    edits = [e for e in run["events"] if e["name"] == "edited"]
    assert {e["data"]["field"]: (e["data"]["old"], e["data"]["new"]) for e in edits} == {
        "notes": ("batch with TPBi", "encapsulated after test"),
        "tags": (["pe", "aged"], ["pe", "encap"]),
        "device.name": ("G1", "G1b")}  # batch was unset and stays unset: no change, no event
    assert all(e["data"]["by"] == "ana" for e in edits)
    assert [r["id"] for r in _all_pages(client, 50, q="encapsulated")] == [run_id]
    again = client.patch("/api/runs/%d" % run_id, headers=AUTH, json={"notes": run["notes"]})
    assert len([e for e in again.json()["events"] if e["name"] == "edited"]) == len(edits)


@pytest.mark.parametrize("body, fragment", [
    ({"summary": {}}, "summary: unknown field"),
    ({"params": {"voltage_v": 3}}, "params: unknown field"),
    ({"device": {"area_mm2": 2.0}}, "device.area_mm2: unknown field"),
    ({"device": {"structure": "ITO/..."}}, "device.structure: unknown field"),
    ({"tags": ["two words"]}, "tags.0"),
    ({"tags": ["x"] * 17}, "tags"),
    ({"notes": "x" * 4001}, "notes"),
    ({"device": {"name": ""}}, "device.name"),
    ({"state": "completed"}, "state: unknown field"),
])
def test_a_refused_edit_is_a_422_naming_the_field_and_changes_nothing(seeded, body, fragment):
    client, ids = seeded
    before = client.get("/api/runs/%d" % ids[1]).json()
    answer = client.patch("/api/runs/%d" % ids[1], headers=AUTH, json=body)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]
    assert client.get("/api/runs/%d" % ids[1]).json() == before


def test_edits_and_archiving_need_the_token(seeded):
    client, ids = seeded
    assert client.patch("/api/runs/%d" % ids[0], json={"notes": "x"}).status_code == 401
    assert client.post("/api/runs/%d/archive" % ids[0]).status_code == 401
    assert client.patch("/api/runs/99999", headers=AUTH, json={"notes": "x"}).status_code == 404


def test_an_archived_run_leaves_the_default_list_and_comes_back(seeded):
    client, ids = seeded
    hidden = ids[3]
    answer = client.post("/api/runs/%d/archive?by=ben" % hidden, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["archived"] is True
    assert hidden not in {r["id"] for r in _all_pages(client, 50)}
    assert [r["id"] for r in _all_pages(client, 50, archived="true")] == [hidden]
    assert len(_all_pages(client, 50, archived="any")) == len(ids)
    assert client.get("/api/runs/%d" % hidden).status_code == 200, "hidden, never deleted"
    back = client.post("/api/runs/%d/unarchive" % hidden, headers=AUTH).json()
    assert back["archived"] is False
    assert [e["name"] for e in back["events"]][-2:] == ["archived", "unarchived"]
    assert back["events"][-2]["data"] == {"by": "ben"}
    assert hidden in {r["id"] for r in _all_pages(client, 50)}


@pytest.mark.parametrize("device, fragment", [
    ({"area_mm2": 0}, "device.area_mm2"),
    ({"area_mm2": "1"}, "device.area_mm2"),
    ({"colour": "green"}, "device.colour: unknown field"),
    ({"name": "x" * 129}, "device.name"),
])
def test_a_bad_device_block_is_a_422(seeded, device, fragment):
    client, _ = seeded
    answer = client.post("/api/runs", headers=AUTH, json={
        "kind": "jvl", "rig": "rig1", "device": device})
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


def test_a_run_keeps_its_device_and_measures_with_the_device_area(tmp_path):
    """A G1 J-V-L sweep run twice: once on the calibration's area, once declared twice that.
    Luminance from the same photocurrent halves, and so does J from the same current."""
    service = ServiceProcess(["sim:G1?accel=max&seed=3"],
                             "sqlite:///%s" % (tmp_path / "device.sqlite"), tmp_path).start()
    try:
        summaries, j_max = [], []
        rig_area = httpx.get(service.url + "/api/rigs/rig1", timeout=60
                             ).json()["calibration"]["pixel_area_mm2"]
        for area in (None, 2 * rig_area):
            device = {"name": "G1", "sample_id": "S-17", "pixel": "B2", "batch": "2026-12",
                      "structure": "ITO/PEDOT:PSS/TFB/CsPbBr3/TPBi/LiF/Al"}
            if area:
                device["area_mm2"] = area
            posted = httpx.post(service.url + "/api/runs", headers=E2E_AUTH, timeout=30, json={
                "kind": "jvl", "rig": "rig1", "device": device, "operator": "ana",
                "notes": "first light", "tags": ["g1", "sweep"],
                "params": {"start_v": 4.0, "stop_v": 10.0, "step_v": 0.5, "dwell_s": 0.5}})
            assert posted.status_code == 201, posted.text
            run = posted.json()
            assert (run["device"], run["operator"], run["notes"], run["tags"]) == (
                device, "ana", "first light", ["g1", "sweep"])
            assert run["calibration"]["pixel_area_mm2"] == (area or rig_area)
            url = "%s/api/runs/%d" % (service.url, run["id"])
            done = wait_for(lambda url=url: (r := httpx.get(url, timeout=60).json())["finished_at"]
                            and r, 120, "the sweep's end")
            assert done["state"] == "completed", done
            summaries.append(done["summary"])
            export = httpx.get(url + "/export.csv", timeout=30).text
            header = [line for line in export.splitlines() if line.startswith("#")]
            assert any('"sample_id": "S-17"' in line for line in header), header[:12]
            assert any('"tags": ["g1", "sweep"]' in line for line in header), header[:12]
            rows = list(csv.DictReader(line for line in export.splitlines()
                                       if not line.startswith("#")))
            j_max.append(max(float(r["current_density_ma_cm2"]) for r in rows))
        listed = httpx.get(service.url + "/api/runs", params={"q": "s-17"}, timeout=60).json()
        assert [r["device"]["pixel"] for r in listed["runs"]] == ["B2", "B2"]
        small, large = summaries
        assert large["l_max_cd_m2"] == pytest.approx(small["l_max_cd_m2"] / 2, rel=0.02)
        assert large["ce_max_cd_a"] == pytest.approx(small["ce_max_cd_a"], rel=0.02)
        assert j_max[1] == pytest.approx(j_max[0] / 2, rel=0.02)
    finally:
        service.stop()
