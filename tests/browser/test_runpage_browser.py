"""The run page (#/runs/42) in headless Chromium against a real `lumenrig serve` on a simulated
G1 at full speed: a lifetime's panels (L/L0 with its fit and T-values over voltage, current
density and ambient on the time under stress), a luminance target's ramp on its own, a J-V-L
sweep's efficiencies against a log J axis, the events and summary in words with units, and
the labels shown, edited and archived from the page.

The module's runs are started through the API once (a few seconds of wall time in all).
Screenshots go to test-artifacts/.
"""

import re

import httpx
import pytest

from tests.support.browser import Browser, wait_until
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import AUTH, TOKEN, ServiceProcess

RIG = "sim:G1?accel=max&seed=11"
# rig2: a run the page must see while it lasts, paced so that it outlasts the page's polls
# however busy the machine is (at accel=max it can end first).
PACED_RIG = "sim:G1?accel=20&seed=12"
DESKTOP = (1280, 900)
PHONE = (390, 844)
# G1 at 10 V reaches T50 (about 630 s of device time) before max_duration_s.
CONSTANT_VOLTAGE = {"voltage_v": 10, "sample_period_s": 1, "max_duration_s": 1200}
TARGET = {"target_l0_cd_m2": 40, "sample_period_s": 1, "max_duration_s": 1200}
DEVICE = {"name": "G1", "sample_id": "S-7", "pixel": "A2", "batch": "2026-12-PeLED",
          "structure": "ITO/PEDOT:PSS/TFB/CsPbBr3/TPBi/LiF/Al", "area_mm2": 4.0}
LABELS = {"device": DEVICE, "operator": "ana", "notes": "first of the batch", "tags": ["cv"]}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("runpage")
    proc = ServiceProcess([RIG, PACED_RIG], f"sqlite:///{data / 'runpage.sqlite'}",
                          data).start()
    yield proc
    proc.stop()


def _run(service, run_id: int) -> dict:
    return httpx.get(f"{service.url}/api/runs/{run_id}", timeout=60).json()


def _start_and_finish(service, kind: str, params: dict, labels: dict | None = None) -> dict:
    response = httpx.post(f"{service.url}/api/runs", headers=AUTH, timeout=60, json={
        "kind": kind, "rig": "rig1", "params": params, **(labels or {})})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    run = wait_until(lambda: (r := _run(service, run_id))["state"] not in ("queued", "running")
                     and r, 120, f"run {run_id} to end")
    assert run["state"] == "completed", run
    return run


@pytest.fixture(scope="module")
def runs(service) -> dict[str, dict]:
    """The module's finished runs, one after another on the one rig, as the API gives them."""
    return {"cv": _start_and_finish(service, "lifetime", CONSTANT_VOLTAGE, LABELS),
            "target": _start_and_finish(service, "lifetime", TARGET),
            "jvl": _start_and_finish(service, "jvl", {})}


@pytest.fixture
def page(browser, service, runs):
    """The browser at desktop size with no token kept, console errors of earlier steps
    discarded."""
    browser.viewport(*DESKTOP)
    browser.get(service.url + "/#/")
    browser.js("sessionStorage.clear()")
    browser.element("#run-form")
    browser.console_errors()
    return browser


def _open(b: Browser, service, run_id: int) -> None:
    """Open a finished run's page and wait until its plots hold every sample."""
    total = httpx.get(f"{service.url}/api/runs/{run_id}/samples", timeout=60).json()["total"]
    b.get(f"{service.url}/#/runs/{run_id}")
    b.refresh()
    wait_until(lambda: b.text(".run-head h2").startswith(f"Run #{run_id} "), 30, "the run page")
    wait_until(lambda: b.text("#points") == f"{total} points plotted of {total} samples", 30,
               f"all {total} samples plotted")


def _script_errors(b: Browser) -> list[str]:
    return [m for m in b.console_errors() if "Failed to load resource" not in m]


def _figure(b: Browser, figure: str) -> dict:
    """{traces: [{name, x, y, xaxis, yaxis}], layout} plotly holds for a figure ({} before)."""
    return b.js("const d = document.querySelector(`[data-figure='${arguments[0]}'] .plot-area`);"
                "if (!d || !d.data) return {};"
                "return {traces: d.data.map((t) => ({name: t.name, x: t.x, y: t.y,"
                " xaxis: t.xaxis || 'x', yaxis: t.yaxis || 'y'})),"
                " layout: JSON.parse(JSON.stringify(d.layout))};", figure)


def _trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["traces"] if t["name"] == name)


def _drawn(b: Browser, figure: str, names: set[str]) -> dict:
    return wait_until(lambda: (f := _figure(b, figure)) and names <= {t["name"] for t in
                                                                     f["traces"]} and f,
                      30, f"the {figure} figure with {sorted(names)}")


def _accept_token_if_asked(b: Browser, done) -> None:
    """Wait for `done()` or the token dialog; enter the token when it is asked for."""
    if wait_until(lambda: "asked" if b.js("return document.getElementById('token-dialog').open")
                  else done(), 30, "the token dialog or the answer") == "asked":
        b.type("#token-dialog input[name=token]", TOKEN)
        b.click("#token-save")
        wait_until(done, 30, "the answer once the token was given")


def test_lifetime_page_draws_current_density_beside_l_over_l0_with_the_fit_and_t_values(
        page, service, runs):
    run = runs["cv"]
    summary = run["summary"]
    _open(page, service, run["id"])
    fig = _drawn(page, "lifetime", {"L/L0", "fit", "T95", "T80", "T50", "voltage", "J",
                                    "temperature", "RH"})
    layout = fig["layout"]
    # Four panels stacked on one time axis: L/L0 on top, current density below it.
    assert [layout[a]["title"]["text"] for a in ("yaxis", "yaxis2", "yaxis3", "yaxis4")] == [
        "L / L0", "V (V)", "J (mA/cm²)", "T (°C)"]
    assert {t["xaxis"] for t in fig["traces"]} == {"x"}
    assert layout["xaxis"]["title"]["text"].startswith("time under stress")
    assert layout["yaxis3"]["domain"][1] < layout["yaxis"]["domain"][0]
    # J is the sample current on the device's area: 1 A over 1 mm2 is 1e5 mA/cm2.
    samples = httpx.get(f"{service.url}/api/runs/{run['id']}/samples", timeout=60).json()
    current = [row[samples["columns"].index("current_a")] for row in samples["rows"]]
    j = _trace(fig, "J")["y"]
    assert sorted(j) == pytest.approx(sorted(i * 1e5 / DEVICE["area_mm2"] for i in current))
    # The summary's stretched exponential, drawn from its parameters.
    fit = _trace(fig, "fit")
    assert fit["y"][0] == pytest.approx(summary["fit_l0_cd_m2"] / summary["l0_cd_m2"])
    t50_x = _trace(fig, "T50")["x"][0]
    assert page.js("return document.querySelector('[data-figure=lifetime]').dataset.markers") \
        == "T95 T80 T50"
    labels = [a["text"] for a in layout["annotations"]]
    assert any(text.startswith("T50 = ") for text in labels), labels
    unit = 60 if layout["xaxis"]["title"]["text"].endswith("(min)") else 1
    assert t50_x * unit == pytest.approx(summary["t50_s"])
    # T-values are vertical lines through every panel.
    lines = [s for s in layout["shapes"] if s["yref"] == "paper"]
    assert sorted(s["x0"] * unit for s in lines) == pytest.approx(
        sorted(summary[k] for k in ("t95_s", "t80_s", "t50_s")))
    page.screenshot(ARTIFACTS / "runpage-lifetime-desktop.png")
    page.viewport(*PHONE, mobile=True)
    wait_until(lambda: page.js("return document.documentElement.scrollWidth") <= PHONE[0], 30,
               "the run page to fit a phone")
    page.screenshot(ARTIFACTS / "runpage-lifetime-phone.png")
    assert _script_errors(page) == []


def test_events_and_summary_read_in_words_with_units(page, service, runs):
    run = runs["cv"]
    _open(page, service, run["id"])
    wait_until(lambda: page.find("#events li[data-name=l0_captured]"), 30, "the events")
    assert page.text("#events li[data-name=output_on] .text") == "output on at 10.000 V"
    l0_text = page.text("#events li[data-name=l0_captured] .text")
    shown = re.fullmatch(r"L0 captured: ([\d.]+) cd/m²", l0_text)
    assert shown, l0_text
    assert float(shown[1]) == pytest.approx(run["summary"]["l0_cd_m2"], rel=1e-3)
    assert page.text("#events li[data-name=run_stopped] .text") == \
        "run stopped: luminance fraction"
    row = wait_until(lambda: page.text("#summary tr[data-key=t50_s]"), 30, "the summary's T50")
    t50 = run["summary"]["t50_s"]
    assert row.startswith("T50, time to 50 % of L0")
    assert re.search(r"\d+(\.\d+)? s \(\d+(\.\d+)? min\)$", row), row
    assert float(row.split("\t")[-1].split()[0]) == pytest.approx(t50, rel=1e-3)
    assert page.text("#summary tr[data-key=l0_cd_m2] td").endswith(" cd/m²")
    assert page.text("#params tr[data-key=voltage_v] td") == "10 V"
    times = page.text("#run-times")
    assert "started " in times and "ended " in times and "took " in times, times
    assert _script_errors(page) == []


def test_labels_are_shown_and_edited_and_the_run_archived_from_the_page(page, service, runs):
    run_id = runs["cv"]["id"]
    _open(page, service, run_id)
    wait_until(lambda: page.find("#labels"), 30, "the labels")
    shown = page.text("#labels")
    for value in ("G1", "S-7", "A2", "2026-12-PeLED", DEVICE["structure"], "4 mm²", "ana", "cv",
                  "first of the batch"):
        assert value in shown, value

    page.click("#labels-edit")
    page.type("#run-notes", "aged at 10 V; J drifts down")
    page.type("#run-tags", "cv, aged")
    page.type("#run-device-batch", "")
    page.screenshot(ARTIFACTS / "runpage-labels-edit-desktop.png")
    page.click("#labels-save")
    _accept_token_if_asked(page, lambda: page.text("#labels-notes") ==
                           "aged at 10 V; J drifts down")
    run = _run(service, run_id)
    assert (run["notes"], run["tags"]) == ("aged at 10 V; J drifts down", ["cv", "aged"])
    assert "batch" not in run["device"] and run["device"]["name"] == "G1"
    wait_until(lambda: page.find("#events li[data-name=edited]"), 30, "the edit's event")

    page.click("#archive")
    wait_until(lambda: page.find("#unarchive"), 30, "the run archived")
    assert _run(service, run_id)["archived"] is True
    page.click("#unarchive")
    wait_until(lambda: page.find("#archive"), 30, "the run unarchived")
    assert _run(service, run_id)["archived"] is False
    page.screenshot(ARTIFACTS / "runpage-labels-desktop.png")
    assert _script_errors(page) == []


def test_luminance_target_ramp_is_drawn_apart_from_the_decay(page, service, runs):
    run = runs["target"]
    hold_s = run["summary"]["stress_start_s"]
    assert hold_s > 0
    _open(page, service, run["id"])
    lifetime = _drawn(page, "lifetime", {"L/L0", "fit"})
    ramp = _drawn(page, "ramp", {"luminance", "voltage"})
    # The decay starts at the hold (time under stress 0, L/L0 about 1); the ramp's samples
    # are all before it, on their own figure.
    ratio = _trace(lifetime, "L/L0")
    assert min(ratio["x"]) >= 0
    assert ratio["y"][0] == pytest.approx(1.0, abs=0.05)
    assert max(ramp["traces"][0]["x"]) <= hold_s
    page.screenshot(ARTIFACTS / "runpage-lifetime-target-desktop.png")
    assert _script_errors(page) == []


def test_jvl_page_draws_eqe_and_pe_against_a_log_j_axis(page, service, runs):
    run = runs["jvl"]
    _open(page, service, run["id"])
    figures = {name: _drawn(page, name, set()) for name in ("jv", "lv", "cej", "eqej", "pej")}
    for name in ("cej", "eqej", "pej"):
        assert figures[name]["layout"]["xaxis"]["type"] == "log", name
        assert figures[name]["layout"]["xaxis"]["title"]["text"] == "J (mA/cm²)", name
    assert figures["jv"]["layout"]["yaxis"]["type"] == "log"
    ce = [y for y in figures["cej"]["traces"][0]["y"] if y is not None]
    eqe = [y for y in figures["eqej"]["traces"][0]["y"] if y is not None]
    pe = [y for y in figures["pej"]["traces"][0]["y"] if y is not None]
    assert eqe and pe
    summary = run["summary"]
    # EQE is CE times the spectrum's factor, the one the summary's maxima carry.
    assert max(eqe) / max(ce) == pytest.approx(summary["eqe_max_pct"] / summary["ce_max_cd_a"])
    page.screenshot(ARTIFACTS / "runpage-jvl-desktop.png")
    assert _script_errors(page) == []


def test_a_running_run_shows_live_events_in_units_and_the_time_it_should_end(page, service):
    """The stream's events come without their text; the page reads it from the service."""
    response = httpx.post(f"{service.url}/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig2",
        "params": {"voltage_v": 10, "stop_fraction": 0.05, "max_duration_s": 86400}})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    try:
        page.get(f"{service.url}/#/runs/{run_id}")
        page.refresh()
        wait_until(lambda: page.text(".run-head h2 .badge") == "running", 30, "the run running")
        wait_until(lambda: page.text("#events li[data-name=output_on] .text")
                   == "output on at 10.000 V", 30, "the live event's text")
        wait_until(lambda: re.search(r"ETA ≈ .+ of run time, ends ≈ \d{1,2}:\d{2}:\d{2}",
                                     page.text("#live-line")), 30, "the ETA's clock time")
        assert "running for " in page.text("#run-times")
        page.screenshot(ARTIFACTS / "runpage-lifetime-running-desktop.png")
    finally:
        httpx.post(f"{service.url}/api/runs/{run_id}/abort", headers=AUTH, timeout=60)
    wait_until(lambda: page.text(".run-head h2 .badge") == "aborted", 30, "the run aborted")
    assert _script_errors(page) == []


def test_eta_reads_as_the_local_time_the_run_should_end(page):
    """At the pace the device clock keeps against the wall: a simulated rig 50 times faster
    than real time ends 50 times sooner than its ETA in device seconds."""
    result = page.js_async("""
        const done = arguments[arguments.length - 1];
        import('/static/js/runtimes.js').then(({ endsAtMs }) => {
          const now = Date.parse('2026-12-06T12:00:00Z');
          const started = new Date(now - 10000).toISOString();
          done({ real: endsAtMs(600, 10, started, now) - now,
                 fast: endsAtMs(600, 500, started, now) - now,
                 none: endsAtMs(null, 10, started, now) });
        });
    """)
    assert result == {"real": 600_000, "fast": 12_000, "none": None}
