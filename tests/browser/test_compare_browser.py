"""The runs list's filters and selection, the compare page and the run form's labels, in
headless Chromium against a real `lumenrig serve` on a simulated G1 at full speed.

Three short lifetime runs of two device names ("G1" twice, "G1-ref" once) and one J-V-L sweep
are started through the API once for the module (about a second of wall time in all).
Screenshots go to test-artifacts/.
"""

import urllib.parse

import httpx
import pytest

from tests.support.browser import Browser, wait_until
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import AUTH, TOKEN, ServiceProcess

RIG = "sim:G1?accel=max&seed=11"
SHORT_LIFETIME = {"voltage_v": 10, "sample_period_s": 1, "max_duration_s": 20}
DESKTOP = (1280, 900)
PHONE = (390, 844)
# (device, tags) of the module's runs, lifetime first.
LIFETIMES = [({"name": "G1", "pixel": "A1", "sample_id": "S-1"}, ["cmp", "batchA"]),
             ({"name": "G1", "pixel": "A2", "sample_id": "S-1"}, ["cmp", "batchA"]),
             ({"name": "G1-ref", "pixel": "B1", "sample_id": "S-2"}, ["cmp", "ref"])]
SWEEP = ({"name": "G1", "pixel": "A3"}, ["cmp", "sweep"])


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("compare")
    proc = ServiceProcess([RIG], f"sqlite:///{data / 'compare.sqlite'}", data).start()
    yield proc
    proc.stop()


def _run(service, run_id: int) -> dict:
    return httpx.get(f"{service.url}/api/runs/{run_id}", timeout=60).json()


def _finished(service, run_id: int) -> dict:
    return wait_until(lambda: (run := _run(service, run_id))["state"] not in (
        "queued", "running") and run, 60, f"run {run_id} to end")


def _start_and_finish(service, kind: str, params: dict, device: dict, tags: list[str]) -> int:
    response = httpx.post(f"{service.url}/api/runs", headers=AUTH, timeout=60, json={
        "kind": kind, "rig": "rig1", "params": params, "device": device, "tags": tags,
        "operator": "e2e"})
    assert response.status_code == 201, response.text
    run = _finished(service, response.json()["id"])
    assert run["state"] == "completed", run
    return run["id"]


@pytest.fixture(scope="module")
def runs(service) -> dict[str, list[int]]:
    """The module's runs, one after another on the one rig: {"lifetime": [3 ids], "jvl": [id]}."""
    lifetimes = [_start_and_finish(service, "lifetime", SHORT_LIFETIME, device, tags)
                 for device, tags in LIFETIMES]
    return {"lifetime": lifetimes, "jvl": [_start_and_finish(service, "jvl", {}, *SWEEP)]}


@pytest.fixture
def page(browser, service, runs):
    """The overview at desktop size, console errors of earlier steps discarded."""
    browser.viewport(*DESKTOP)
    browser.get(service.url + "/#/")
    browser.refresh()  # a new hash alone would keep the page's module state (filters, picks)
    browser.element("#run-form")
    browser.console_errors()
    return browser


def _script_errors(b: Browser) -> list[str]:
    """Console errors other than HTTP errors (a 401 before the token is given)."""
    return [m for m in b.console_errors() if "Failed to load resource" not in m]


def _traces(b: Browser, figure: str) -> list[str]:
    """Names of the traces plotly holds in a figure's graph div ([] before it is drawn)."""
    return b.js("const d = document.querySelector(`[data-figure='${arguments[0]}'] .plot-area`);"
                "return d && d.data ? d.data.map((t) => t.name) : [];", figure)


def _table_rows(b: Browser, table_id: str) -> dict[str, str]:
    """{data-group: row text} of a compare table, in the page's row order (pairs: chromedriver
    hands objects back with their keys sorted)."""
    return dict(b.js("return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]"
                     ".map((r) => [r.dataset.group, r.innerText])", table_id))


def _shown_runs(b: Browser) -> list[int]:
    return b.js("return [...document.querySelectorAll('table.runs tbody tr')]"
                ".map((r) => Number(r.dataset.run))")


def _label(run_id: int, device: dict) -> str:
    return f"#{run_id} {device['name']} {device['pixel']}"


def test_compare_page_overlays_runs_and_groups_their_figures(page, service, runs):
    lifetimes, sweep = runs["lifetime"], runs["jvl"][0]
    ids = [*lifetimes, sweep]
    page.get(f"{service.url}/#/compare?runs={','.join(map(str, ids))}")
    page.refresh()
    wait_until(lambda: page.js("return document.getElementById('compare-head')?.dataset.loaded")
               == str(len(ids)), 30, "the compared runs to load")
    expected = [_label(i, d) for i, (d, _) in zip(lifetimes, LIFETIMES)]
    assert wait_until(lambda: _traces(page, "lifetime"), 30, "the lifetime plot") == expected
    # The DOM holds one drawn line per trace too.
    assert page.js("return document.querySelectorAll("
                   "'[data-figure=lifetime] .scatterlayer .trace').length") == 3
    for figure in ("jv", "lv", "cej", "eqej"):
        assert _traces(page, figure) == [_label(sweep, SWEEP[0])], figure
    # EQE from the run's own CE and spectrum: its highest point is the summary's EQE max.
    highest_eqe = page.js("const d = document.querySelector(\"[data-figure='eqej'] .plot-area\");"
                          "return Math.max(...d.data[0].y.filter((y) => y !== null));")
    eqe_max = _run(service, sweep)["summary"]["eqe_max_pct"]
    assert highest_eqe == pytest.approx(eqe_max, rel=1e-6)
    # Each plot within its own box (one drawn before its neighbours existed would overflow).
    assert page.js("return [...document.querySelectorAll('#compare-plots figure')].every((f) =>"
                   " f.querySelector('.main-svg').getBoundingClientRect().width"
                   " <= f.getBoundingClientRect().width)")

    by_device = _table_rows(page, "by-device-lifetime")
    assert list(by_device) == ["G1", "G1-ref"]
    assert by_device["G1"].split("\t")[1] == "2" and by_device["G1-ref"].split("\t")[1] == "1"
    assert "±" in by_device["G1"]  # two runs: a spread
    assert list(_table_rows(page, "by-tag-lifetime")) == ["batchA", "cmp", "ref"]
    assert list(_table_rows(page, "by-device-jvl")) == ["G1"]

    href = page.js("return document.getElementById('csv-by-device-lifetime').href")
    assert href.startswith("data:text/csv")
    lines = urllib.parse.unquote(href.split(",", 1)[1]).splitlines()
    assert lines[0].startswith("device,runs,l0_cd_m2_n,l0_cd_m2_mean,l0_cd_m2_sd")
    assert [line.split(",")[:2] for line in lines[1:]] == [["G1", "2"], ["G1-ref", "1"]]
    l0s = [_run(service, i)["summary"]["l0_cd_m2"] for i in lifetimes[:2]]
    assert float(lines[1].split(",")[3]) == pytest.approx(sum(l0s) / 2)
    page.screenshot(ARTIFACTS / "dashboard-compare-desktop.png")

    page.click("#time-log")
    wait_until(lambda: page.js("return document.querySelector('[data-figure=lifetime] "
                               ".plot-area').layout.xaxis.type") == "log", 30, "a log time axis")
    assert page.js("return location.hash").endswith("&time=log")
    assert _traces(page, "lifetime") == expected
    page.viewport(*PHONE, mobile=True)
    wait_until(lambda: page.js("return document.documentElement.scrollWidth") <= PHONE[0], 30,
               "the compare page to fit a phone")
    page.screenshot(ARTIFACTS / "dashboard-compare-phone.png")
    assert _script_errors(page) == []


def test_runs_list_filters_by_tag_and_kind_and_opens_the_selection(page, service, runs):
    everything = {*runs["lifetime"], *runs["jvl"]}
    wait_until(lambda: everything <= set(_shown_runs(page)), 30, "every run in the list")
    ref_run = runs["lifetime"][2]
    row = page.text(f"table.runs tr[data-run='{ref_run}']")
    for shown in ("G1-ref", "B1", "ref", "lifetime", "completed", "T50"):
        assert shown in row, shown

    page.type("#runs-tag", "ref")
    wait_until(lambda: _shown_runs(page) == [ref_run], 30, "only the run tagged ref")
    page.screenshot(ARTIFACTS / "dashboard-runs-filtered-desktop.png")
    page.type("#runs-tag", "cmp, batchA")  # every tag given
    wait_until(lambda: sorted(_shown_runs(page)) == sorted(runs["lifetime"][:2]), 30,
               "the runs tagged cmp and batchA")
    page.type("#runs-tag", "")
    page.js("const k = document.getElementById('runs-kind'); k.value = 'jvl';"
            "k.dispatchEvent(new Event('change', { bubbles: true }))")
    wait_until(lambda: _shown_runs(page) == runs["jvl"], 30, "only the sweep")
    page.js("const k = document.getElementById('runs-kind'); k.value = '';"
            "k.dispatchEvent(new Event('change', { bubbles: true }))")
    page.type("#runs-q", "G1-ref")
    wait_until(lambda: _shown_runs(page) == [ref_run], 30, "the text search")
    page.type("#runs-q", "")

    picked = [runs["jvl"][0], runs["lifetime"][0]]
    wait_until(lambda: set(picked) <= set(_shown_runs(page)), 30, "the full list again")
    for run_id in picked:
        page.click(f"input.pick[data-run='{run_id}']")
    assert page.text("#compare-selected") == "Compare selected (2)"
    page.click("#compare-selected")
    wait_until(lambda: page.js("return location.hash") ==
               f"#/compare?runs={min(picked)},{max(picked)}", 30, "the compare page's URL")
    wait_until(lambda: page.js("return document.getElementById('compare-head')?.dataset.loaded")
               == "2", 30, "the two runs compared")
    assert _script_errors(page) == []


def test_run_form_sends_the_device_and_labels(page, service, runs):
    labels = {"run-device-name": "G1-form", "run-device-sample-id": "S-9",
              "run-device-pixel": "C4", "run-device-batch": "2026-12", "run-operator": "ana",
              "run-notes": "from the form", "run-tags": "form, e2e"}
    for field, value in labels.items():
        page.type(f"#{field}", value)
    page.type("#f-lifetime-voltage_v", "10")
    page.type("#f-lifetime-max_duration_s", "20")
    page.screenshot(ARTIFACTS / "dashboard-run-form-labels-desktop.png")
    page.click("#run-submit")
    if wait_until(lambda: page.js(
            "return document.getElementById('token-dialog').open ? 'asked' : "
            "(/^#\\/runs\\/\\d+$/.test(location.hash) ? 'started' : '')"), 30,
            "the token dialog or the run page") == "asked":
        page.type("#token-dialog input[name=token]", TOKEN)
        page.click("#token-save")
    run_hash = wait_until(lambda: page.js("return /^#\\/runs\\/\\d+$/.test(location.hash) && "
                                          "location.hash"), 30, "the run page to open")
    run = _finished(service, int(run_hash.rsplit("/", 1)[1]))
    assert run["device"] == {"name": "G1-form", "sample_id": "S-9", "pixel": "C4",
                             "batch": "2026-12"}
    assert (run["operator"], run["notes"], run["tags"]) == ("ana", "from the form",
                                                            ["form", "e2e"])
    assert _script_errors(page) == []
