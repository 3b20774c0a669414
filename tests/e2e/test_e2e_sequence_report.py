"""Sequence reports end to end on the HIL: a real sequence (J-V-L, a CV lifetime of G1 with
check-ups, J-V-L) run by the service, then its report: the preset's T50 on stress time, the
check-ups placed on that axis and seeing the pixel age, the sweep after worse than the one
before, the conditions filled in, the clocks, a report taken mid-stress, and the figure."""

from datetime import datetime

import httpx
import pytest

from tests.host.api.test_openapi import _answer_schema, _undocumented
from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

SWEEP = {"stop_v": 10.0, "step_v": 0.5, "dwell_s": 0.2}
CHECKUP_SWEEP = {"start_v": 8.0, "stop_v": 10.0, "step_v": 0.5, "dwell_s": 0.2}
STRESS = {"voltage_v": 10.0, "sample_period_s": 1.0, "host_loss_grace_s": 60}
SEQUENCE = {
    "rig": "rig1", "name": "G1 report", "device": {"name": "G1", "pixel": "A1"},
    "metadata": {"atmosphere": "N2 glovebox", "protocol": "ISOS-L-1"},
    "steps": [
        {"kind": "jvl", "params": SWEEP},
        {"kind": "lifetime", "params": STRESS,
         "checkups": {"every_s": 120, "at_fractions": [0.8],
                      "step": {"kind": "jvl", "params": CHECKUP_SWEEP}}},
        {"kind": "jvl", "params": SWEEP}]}
ENDED = ("completed", "failed", "aborted")


def _get(url: str, path: str, **params) -> httpx.Response:
    return httpx.get(url + path, params=params, timeout=120)


def _sequence(url: str, sequence_id: int) -> dict:
    return _get(url, "/api/sequences/%d" % sequence_id).json()


def _start(url: str, body: dict) -> int:
    posted = httpx.post(url + "/api/sequences", json=body, headers=AUTH, timeout=30)
    assert posted.status_code == 201, posted.text
    return posted.json()["id"]


def _until_ended(url: str, sequence_id: int) -> dict:
    return wait_for(lambda: (s := _sequence(url, sequence_id))["state"] in ENDED and s, 300,
                    "the sequence to end", interval_s=0.5)


def _stressing_after_a_checkup(url: str, sequence_id: int) -> bool:
    """The stress runs again after its first check-up ended."""
    sequence = _sequence(url, sequence_id)
    stress = sequence["steps"][1]
    states = {r["id"]: r["state"] for r in sequence["runs"]}
    return (sequence["phase"] == "stress" and bool(stress["checkups"])
            and all(states[i] == "completed" for i in stress["checkups"]))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A service that ran the sequence (its report and figure also taken mid-stress) and
    one J-V-L alone; {url, id, mid, mid_png, alone, stress_events}."""
    folder = tmp_path_factory.mktemp("report")
    service = ServiceProcess(["sim:G1?accel=50&seed=4"],
                             "sqlite:///%s" % (folder / "report.sqlite"), folder).start()
    try:
        sequence_id = _start(service.url, SEQUENCE)
        wait_for(lambda: _stressing_after_a_checkup(service.url, sequence_id), 240,
                 "the stress to go on after its first check-up", interval_s=0.1)
        # The stress has at least ~500 s of its ~630 left: many s of wall time at accel 50.
        mid = _get(service.url, "/api/sequences/%d/report" % sequence_id).json()
        mid_png = _get(service.url, "/api/sequences/%d/report.png" % sequence_id, dpi=50)
        ended = _until_ended(service.url, sequence_id)
        assert ended["state"] == "completed", ended
        alone = _start(service.url, {"rig": "rig1", "steps": [{"kind": "jvl",
                                                                "params": SWEEP}]})
        assert _until_ended(service.url, alone)["state"] == "completed"
        stress_id = ended["steps"][1]["run_id"]
        events = _get(service.url, "/api/runs/%d" % stress_id).json()["events"]
        yield {"url": service.url, "id": sequence_id, "mid": mid, "mid_png": mid_png,
               "alone": alone, "stress_events": events}
    finally:
        service.stop()


@pytest.fixture(scope="module")
def report(ran):
    response = _get(ran["url"], "/api/sequences/%d/report" % ran["id"])
    assert response.status_code == 200, response.text
    return response.json()


def test_the_report_carries_exactly_what_its_schema_documents(ran, report):
    openapi = _get(ran["url"], "/openapi.json").json()
    schema = _answer_schema(openapi, "get", "/api/sequences/{sequence_id}/report")
    assert not _undocumented(openapi, report, schema)
    assert not _undocumented(openapi, ran["mid"], schema)
    assert set(report) >= {"headline", "checkups", "steps", "metadata", "clocks"}


def test_the_headline_gives_l0_the_stress_and_the_presets_t50_on_stress_time(report):
    head = report["headline"]
    assert report["state"] == "completed" and report["partial"] is False
    assert head["stress"] == {"kind": "lifetime", "drive": "voltage_v", "level": 10.0,
                              "unit": "V", "text": "constant voltage, 10 V"}
    assert head["l0_cd_m2"] == pytest.approx(50, rel=0.05)
    assert head["t50_s"] == pytest.approx(630, rel=0.05)
    assert 0 < head["t95_s"] < head["t80_s"] < head["t50_s"]
    assert head["stop_reason"] == "luminance_fraction"


def test_the_sweep_after_the_stress_is_worse_than_the_one_before(report):
    head = report["headline"]
    steps = report["steps"]
    assert (head["before_run_id"], head["after_run_id"]) == (steps[0]["run_id"],
                                                             steps[2]["run_id"])
    for name in ("eqe_max_pct", "ce_max_cd_a"):
        change = head["changes"][name]
        assert change["after"] < change["before"], (name, change)
        assert change["change"] == pytest.approx(change["after"] - change["before"])
        assert change["change_pct"] < -10, (name, change)
    assert head["changes"]["turn_on_v"]["change"] is not None


def test_checkups_lie_on_stress_time_and_see_the_pixel_age(report):
    checkups = report["checkups"]
    # every 120 s of stress to T50 (~630 s), and one at L/L0 = 0.8 (~150 s)
    assert len(checkups) >= 5
    assert all(c["state"] == "completed" for c in checkups)
    times = [c["stress_t_s"] for c in checkups]
    assert all(a < b for a, b in zip(times, times[1:])), times
    assert 100 < times[0] and times[-1] <= report["clocks"][-1]["stress_to_s"]
    fractions = [c["l_over_l0"] for c in checkups]
    assert all(b < a for a, b in zip(fractions, fractions[1:])), fractions
    assert any(0.7 < f <= 0.8 for f in fractions), "the check-up at L/L0 0.8"
    ce = [c["figures"]["ce_max_cd_a"] for c in checkups]
    assert all(b <= a * 1.02 for a, b in zip(ce, ce[1:])), ce
    assert ce[-1] < 0.85 * ce[0]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_clocks_map_stress_time_to_wall_time_around_each_pause(ran, report):
    clocks = report["clocks"]
    paused = [e for e in ran["stress_events"] if e["name"] == "paused"]
    assert len(clocks) == len(paused) + 1
    assert clocks[0]["stress_from_s"] == 0
    assert clocks[-1]["stress_to_s"] == pytest.approx(report["headline"]["t50_s"], rel=0.02)
    for segment, event in zip(clocks, paused):
        assert segment["stress_to_s"] == pytest.approx(event["data"]["stress_t_s"])
        assert segment["wall_to"] == event["t"]
    for a, b in zip(clocks, clocks[1:]):
        # Stress time goes on across a pause by at most a sample period or so.
        assert 0 <= b["stress_from_s"] - a["stress_to_s"] <= 2 * STRESS["sample_period_s"], (
            clocks, [(e["name"], e["message"], e.get("data")) for e in ran["stress_events"]])
        assert _when(a["wall_from"]) < _when(a["wall_to"]) < _when(b["wall_from"])
    # Each check-up ran in a pause: after a segment's end, before the next one's start.
    for checkup, a, b in zip(report["checkups"], clocks, clocks[1:]):
        assert _when(a["wall_to"]) < _when(checkup["wall_t"]) < _when(b["wall_from"])
        assert checkup["stress_t_s"] == a["stress_to_s"]


def test_the_metadata_has_what_was_given_and_what_the_service_knows(report):
    meta = report["metadata"]
    assert meta["atmosphere"] == "N2 glovebox" and meta["protocol"] == "ISOS-L-1"
    assert meta["encapsulation"] is None and meta["remarks"] is None
    assert meta["device"] == {"name": "G1", "pixel": "A1"}
    assert meta["stress"] == "constant voltage, 10 V"
    assert meta["sample_period_s"] == 1.0
    assert meta["temperature_min_c"] <= meta["temperature_max_c"]
    assert 0 < meta["humidity_min_pct"] <= meta["humidity_max_pct"] <= 100
    assert meta["calibration_ids"] and len(meta["board_ids"]) == 1
    assert meta["rig"] == "rig1" and meta["firmware_version"]
    assert "0.1 s into the hold" in meta["l0_rule"]
    assert "every 120 s of stress" in meta["checkup_rule"] and "0.8" in meta["checkup_rule"]
    assert meta["laser_power_mw_cm2"] is None and meta["dark_rule"] is None


def test_each_step_says_its_run_and_headline_figures(report):
    steps = report["steps"]
    assert [(s["kind"], s["state"]) for s in steps] == [
        ("jvl", "completed"), ("lifetime", "completed"), ("jvl", "completed")]
    assert steps[1]["checkups"] == [c["run_id"] for c in report["checkups"]]
    assert steps[1]["figures"]["t50_s"] == report["headline"]["t50_s"]
    assert steps[0]["figures"]["ce_max_cd_a"] == report["headline"]["changes"][
        "ce_max_cd_a"]["before"]


def test_a_report_taken_mid_stress_is_partial_with_what_it_has(ran):
    mid = ran["mid"]
    head = mid["headline"]
    assert mid["state"] == "running" and mid["partial"] is True
    assert mid["steps"][1]["state"] in ("running", "paused")
    assert head["l0_cd_m2"] == pytest.approx(50, rel=0.05)
    assert head["t50_s"] is None and head["after_run_id"] is None
    assert head["changes"]["ce_max_cd_a"]["before"] and head["changes"]["ce_max_cd_a"][
        "change"] is None
    assert mid["checkups"] and all(c["stress_t_s"] > 0 for c in mid["checkups"])
    assert mid["clocks"] and mid["steps"][2]["run_id"] is None
    assert ran["mid_png"].status_code == 200
    assert ran["mid_png"].content.startswith(b"\x89PNG")


def test_a_sequence_without_a_stress_reports_nulls(ran):
    alone = _get(ran["url"], "/api/sequences/%d/report" % ran["alone"]).json()
    head = alone["headline"]
    assert alone["state"] == "completed"
    assert head["stress"] is None and head["l0_cd_m2"] is None and head["t50_s"] is None
    assert head["before_run_id"] is None and head["after_run_id"] is None
    assert alone["checkups"] == [] and alone["clocks"] == []
    assert alone["metadata"]["temperature_min_c"] is None
    assert alone["steps"][0]["figures"]["ce_max_cd_a"] > 0
    figure = _get(ran["url"], "/api/sequences/%d/report.png" % ran["alone"], dpi=50)
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")


def _png_size(content: bytes) -> tuple[int, int]:
    """(width, height) in px from the PNG's IHDR chunk."""
    return (int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big"))


def test_the_report_figure_is_a_png_of_the_asked_width_or_a_pdf(ran):
    path = "/api/sequences/%d/report" % ran["id"]
    figure = _get(ran["url"], path + ".png", dpi=100)
    assert figure.status_code == 200 and figure.headers["content-type"] == "image/png"
    assert figure.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = _png_size(figure.content)
    assert width == 800 and height > width
    assert len(figure.content) > 30_000  # curves and a table, not a blank page
    pdf = _get(ran["url"], path + ".pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert _get(ran["url"], path + ".png", dpi=20).status_code == 422


def test_an_unknown_sequence_is_a_404(ran):
    for suffix in ("", ".png", ".pdf"):
        response = _get(ran["url"], "/api/sequences/999/report" + suffix)
        assert response.status_code == 404, suffix
        assert "999" in response.json()["detail"]
