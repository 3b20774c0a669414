"""The dashboard in Debian's headless Chromium against a real `lumenrig serve` on a simulated
rig (the MicroPython firmware behind a pty): start, follow, finish and abort runs from the page.

Screenshots (desktop and 390 px phone width) go to test-artifacts/.
"""

import threading
from typing import Self

import httpx
import numpy as np
import pytest
import uvicorn

from host.runs.kinds import KINDS
from host.service import create_app
from host.settings import RigSpec, Settings
from host.store import Store
from tests.support.browser import Browser, free_port, wait_until
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import AUTH, TOKEN, ServiceProcess

# G1 at 10 V has T50 = 630 s of device time (hil_sim/presets.py): ~32 s of wall time at
# x20, long enough for a page drawn on a machine with no core to spare to be seen streaming.
RIG = "sim:G1?accel=20"
# The film's 120-minute photostability run (PL every 5 min) takes ~7 s of wall time at x1000.
FILM_RIG = "sim:film?accel=1000"
PHONE = (390, 844)
DESKTOP = (1280, 900)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("dashboard")
    proc = ServiceProcess([RIG], f"sqlite:///{data / 'dashboard.sqlite'}", data).start()
    yield proc
    proc.stop()


@pytest.fixture
def page(browser, service):
    """The overview at desktop size, console errors of earlier tests discarded."""
    browser.viewport(*DESKTOP)
    browser.get(service.url + "/")
    browser.element("#run-form")
    browser.console_errors()
    return browser


def _script_errors(b: Browser) -> list[str]:
    """Console errors other than the HTTP errors the tests provoke on purpose (401, 422)."""
    return [m for m in b.console_errors() if "Failed to load resource" not in m]


def _choose_kind(b: Browser, kind: str) -> None:
    b.element("#run-kind")
    b.js("const k = document.getElementById('run-kind'); k.value = arguments[0];"
         "k.dispatchEvent(new Event('change'))", kind)


def _fill(b: Browser, params: dict[str, str], kind: str = "lifetime") -> None:
    for name, value in params.items():
        b.type(f"#f-{kind}-{name}", value)


def _submit(b: Browser) -> bool:
    """Press Start; enter the token if the page asks for it. True when it asked."""
    b.click("#run-submit")
    asked = wait_until(lambda: b.js(
        "if (document.getElementById('token-dialog').open) return 'asked';"
        "const submit = document.getElementById('run-submit');"
        "return !submit || !submit.disabled ? 'answered' : '';"), 30,
        "the form to be answered or the token asked")
    if asked != "asked":
        return False
    b.type("#token-dialog input[name=token]", TOKEN)
    b.click("#token-save")
    return True


def _start(b: Browser, kind: str, params: dict[str, str]) -> int:
    """Start a run from the form; the run page's id once the page has opened it."""
    _choose_kind(b, kind)
    _fill(b, params, kind)
    _submit(b)
    run_hash = wait_until(lambda: b.js("return /^#\\/runs\\/\\d+$/.test(location.hash) && "
                                       "location.hash"), 30, "the run page to open")
    return int(run_hash.rsplit("/", 1)[1])


def _state(b: Browser) -> str:
    return b.text(".run-head h2 .badge")


def _points(b: Browser) -> int:
    return int(b.js("return Number(document.getElementById('points').dataset.points || 0)"))


def _wait_fits_width(b: Browser, width: int) -> None:
    """No horizontal scrolling once the plots have followed the resize."""
    wait_until(lambda: b.js("return document.documentElement.scrollWidth") <= width, 30,
               f"the page to fit {width} px")


def _run(service, run_id: int) -> dict:
    return httpx.get(f"{service.url}/api/runs/{run_id}", timeout=60).json()


def _wait_rig_idle(service) -> None:
    wait_until(lambda: httpx.get(f"{service.url}/api/rigs/rig1", timeout=60).json()
               ["active_run"] is None, 30, "rig1 to be free")


def test_bad_form_value_shows_the_apis_own_message(page, service):
    expected = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig1", "params": {"voltage_v": 50}})
    assert expected.status_code == 422
    _fill(page, {"voltage_v": "50"})
    _submit(page)
    shown = wait_until(lambda: page.text("#run-form-error"), 30, "the form's error")
    assert shown == expected.json()["detail"]
    assert page.js("return location.hash") in ("", "#/")
    assert _script_errors(page) == []


def test_control_token_is_asked_once_and_kept_for_the_tab(page):
    page.js("sessionStorage.clear()")
    _fill(page, {"voltage_v": "50"})
    assert _submit(page) is True
    wait_until(lambda: page.text("#run-form-error"), 30, "the first answer")
    page.js("document.getElementById('run-form-error').textContent = ''")
    assert _submit(page) is False
    wait_until(lambda: page.text("#run-form-error"), 30, "the second answer")
    assert page.js("return sessionStorage.getItem('lumenrig.token')") == TOKEN


def test_a_refused_token_is_asked_again_with_the_apis_reason(page):
    page.js("sessionStorage.setItem('lumenrig.token', 'not-the-token-at-all')")
    _fill(page, {"voltage_v": "50"})
    page.click("#run-submit")
    wait_until(lambda: page.js("return document.getElementById('token-dialog').open"), 30,
               "the token dialog")
    assert "wrong bearer token" in page.text("#token-dialog .reason")
    page.type("#token-dialog input[name=token]", TOKEN)
    page.click("#token-save")
    assert "voltage_v" in wait_until(lambda: page.text("#run-form-error"), 30, "the 422")


def test_lifetime_run_from_the_form_plots_live_and_ends_with_t50_marked(page, service):
    _wait_rig_idle(service)
    # At 9.9 V the pixel's T50 is about 1230 s: a minute of wall time at x20, so a page slow
    # to draw its first points on a loaded machine still sees the stream add more.
    run_id = _start(page, "lifetime", {"voltage_v": "9.9"})
    first = wait_until(lambda: _state(page) == "running" and _points(page), 120,
                       "the first live points")
    wait_until(lambda: _state(page) == "running" and _points(page) > first
               and "data: stream" in page.text("#link-state"), 120,
               "more points from the stream while the run is running")
    page.screenshot(ARTIFACTS / "dashboard-run-live-desktop.png")
    wait_until(lambda: _state(page) == "completed", 240, "the run to complete")
    summary = _run(service, run_id)["summary"]
    assert isinstance(summary["t50_s"], float)
    wait_until(lambda: page.js("return document.querySelector('[data-figure=lifetime]')"
                               ".dataset.marker") == "T50", 30, "the T50 marker")
    wait_until(lambda: any(label.startswith("T50 = ") for label in page.js(
        "return [...document.querySelectorAll('[data-figure=lifetime] .annotation-text')]"
        ".map(e => e.textContent)")), 30, "the T50 label on the plot")
    shown_t50 = float(wait_until(lambda: page.text("#summary tr[data-key=t50_s] td"), 30,
                                 "the summary's t50_s").split()[0])
    assert shown_t50 == pytest.approx(summary["t50_s"], rel=1e-3)
    page.screenshot(ARTIFACTS / "dashboard-run-desktop.png")
    page.viewport(*PHONE, mobile=True)
    _wait_fits_width(page, PHONE[0])
    page.screenshot(ARTIFACTS / "dashboard-run-phone.png")
    assert _script_errors(page) == []


def test_abort_button_stops_a_running_run(page, service):
    _wait_rig_idle(service)
    run_id = _start(page, "lifetime", {"voltage_v": "10", "stop_fraction": "0.05"})
    wait_until(lambda: _state(page) == "running" and _points(page) > 0, 120, "live points")
    page.click("#abort", timeout_s=120)
    page.click("#abort-confirm")
    wait_until(lambda: _state(page) == "aborted", 30, "the page to show the run aborted")
    assert _run(service, run_id)["state"] == "aborted"
    assert page.find("#abort") is None
    assert _script_errors(page) == []


def test_overview_shows_the_rig_and_fits_a_phone(page, service):
    card = "article.rig[data-rig=rig1]"
    wait_until(lambda: "connected" in page.text(card + " header"), 30, "rig1 connected")
    text = page.text(card)
    for label in ("output", "shutter", "interlock", "ambient", "channels", "frames",
                  "CRC errors", "gaps", "resends"):
        assert label in text, label
    wait_until(lambda: page.text(card + " .channel").startswith("ch0 "), 30,
               "the board's one channel")
    assert page.js("return document.querySelector(arguments[0]).title",
                   card + " .channel") == "channel 0: drive, laser, photodiode"
    _wait_rig_idle(service)
    # Down to 5 % of L0 takes hours of wall time at x20: the run is still going at the
    # abort, long after it passed T95 (tens of seconds of device time).
    started = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=60, json={
        "kind": "lifetime", "rig": "rig1", "params": {"voltage_v": 10, "stop_fraction": 0.05},
        "device": {"name": "G1-A3"}})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    wait_until(lambda: page.text(card + " .channel .channel-run") == "run %d" % run_id, 30,
               "the channel's cell to link its run")
    wait_until(lambda: page.text(card + " .channel .channel-device") == "G1-A3", 30,
               "the channel's cell to name the run's device")
    wait_until(lambda: page.js("const s = document.querySelector(arguments[0]);"
                               "return s ? Number(s.dataset.points) : 0;",
                               card + " .channel .channel-spark") >= 3, 60,
               "the channel's L/L0 sparkline")
    wait_until(lambda: page.text(card + " .channel .channel-tvalues").startswith("T95 "), 60,
               "the channel's cell to show T95 passed")
    page.screenshot(ARTIFACTS / "dashboard-overview-channels.png")
    httpx.post(service.url + "/api/runs/%d/abort" % run_id, headers=AUTH, timeout=60)
    _wait_rig_idle(service)
    wait_until(lambda: page.find(card + " .channel .channel-run") is None
               and " V · " in page.text(card + " .channel .channel-reading"), 30,
               "the channel's cell to show its last reading, no run")
    wait_until(lambda: "°C" in page.text(card) and "%RH" in page.text(card), 30,
               "the idle rig's temperature and humidity")
    # Idle: the output's reading is the last run's, greyed and titled as such.
    assert "last run" in page.js(
        "return document.querySelector(arguments[0]).title", card + " .reading.stale")
    page.screenshot(ARTIFACTS / "dashboard-overview-desktop.png")
    page.viewport(*PHONE, mobile=True)
    assert page.js("return window.innerWidth") == PHONE[0]
    _wait_fits_width(page, PHONE[0])
    page.screenshot(ARTIFACTS / "dashboard-overview-phone.png")


def test_rig_card_shows_the_quick_self_test_and_runs_the_full_one(page, service):
    card = "article.rig[data-rig=rig1]"
    _wait_rig_idle(service)
    wait_until(lambda: "self-test passed (quick" in page.text(card), 30,
               "the quick self-test of the connection on the card")
    page.js("sessionStorage.setItem('lumenrig.token', arguments[0])", TOKEN)
    page.click(card + " button.selftest-run")
    wait_until(lambda: "self-test passed (full" in page.text(card), 60,
               "the full self-test's result on the card")
    rig = httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()
    assert rig["selftest"]["scope"] == "full" and rig["selftest"]["passed"]
    assert _script_errors(page) == []


def test_runs_list_links_each_run_to_its_page_and_back(page, service):
    run_id = _store_long_lifetime_run(service.db_url, 500)
    row = f"table.runs tr[data-run='{run_id}']"
    wait_until(lambda: "completed" in page.text(row), 30, f"run {run_id} in the list")
    assert "T50" in page.text(row)
    page.click(f"{row} a")
    wait_until(lambda: page.text(".run-head h2").startswith(f"Run #{run_id} "), 30,
               "the run page")
    page.click(".crumbs a")
    page.element("#run-form")
    assert page.js("return location.hash") == "#/"
    assert _script_errors(page) == []


def test_live_series_stays_bounded_over_a_million_samples(page):
    result = page.js_async("""
        const done = arguments[arguments.length - 1];
        import('/static/js/series.js').then(({ RunSeries, HISTORY_POINTS, TAIL_LIMIT }) => {
          const columns = ['seq', 't_s', 'luminance_cd_m2'];
          const series = new RunSeries();
          // What GET /samples?max_points answers: evenly spread rows up to the newest.
          const history = (upto) => {
            const n = Math.min(upto + 1, HISTORY_POINTS), rows = [];
            for (let i = 0; i < n; i += 1) {
              const seq = Math.round((i * upto) / Math.max(1, n - 1));
              rows.push([seq, seq, 1]);
            }
            return { columns, rows, total: upto + 1 };
          };
          series.setHistory(history(0));
          let seq = 1, most = 0, fetches = 0;
          const started = performance.now();
          while (seq < 1000000) {
            const rows = [];
            for (let k = 0; k < 8 && seq < 1000000; k += 1, seq += 1) rows.push([seq, seq, 1]);
            if (series.append({ columns, rows })) {
              series.setHistory(history(seq - 1));
              fetches += 1;
            }
            most = Math.max(most, series.length);
          }
          done({ most, fetches, total: series.total, bound: HISTORY_POINTS + TAIL_LIMIT,
                 ms: performance.now() - started, last: series.last('seq') });
        });
    """)
    assert result["total"] == 1_000_000
    assert result["last"] == 999_999
    assert result["most"] <= result["bound"]
    assert result["fetches"] >= 1_000_000 // result["bound"]


def _store_long_lifetime_run(db_url: str, n: int) -> int:
    """A finished lifetime run of n samples written straight into the service's database."""
    t_s = np.arange(n, dtype=float)
    # Stretched-exponential decay, the shape the rig's lifetime runs have.
    lum = 50.0 * np.exp(-((t_s / (0.6 * n)) ** 0.8))
    ones = np.ones(n)
    cols = {"seq": np.arange(n), "t_s": t_s, "setpoint_v": 10 * ones, "voltage_v": 10 * ones,
            "current_a": 2e-4 * ones, "pd_a": lum * 1e-9, "luminance_cd_m2": lum,
            "temperature_c": 26 * ones, "humidity_pct": 60 * ones,
            "pd_range": np.zeros(n, dtype=int), "flags": np.full(n, 9)}
    params = {"voltage_v": 10.0, "stop_fraction": 0.5}
    with Store(db_url) as store:
        store.upsert_rig("rig1", RIG)  # the service registered it already: a no-op then
        run = store.create_run("rig1", "lifetime", params)
        store.update_run(run.id, state="running")
        store.insert_samples(run.id, cols)
        store.update_run(run.id, state="completed", progress=1.0,
                         summary=KINDS["lifetime"].summarize(params, None, cols, []))
    return run.id


def test_a_long_stored_run_opens_downsampled_to_a_bounded_plot(page, service):
    run_id = _store_long_lifetime_run(service.db_url, 100_000)
    page.get(f"{service.url}/#/runs/{run_id}")
    limit = page.js_async("import('/static/js/series.js').then((m) => "
                          "arguments[arguments.length - 1](m.HISTORY_POINTS))")
    wait_until(lambda: _points(page) == limit, 30, f"{limit} points plotted")
    assert page.text("#points") == f"{limit} points plotted of 100000 samples"
    wait_until(lambda: page.js("return document.querySelector('[data-figure=lifetime]')"
                               ".dataset.marker") == "T50", 30, "the T50 marker")
    assert _script_errors(page) == []


def test_jvl_sweep_from_the_form_draws_jv_lv_and_the_efficiencies_against_j(page, service):
    _wait_rig_idle(service)
    run_id = _start(page, "jvl", {})
    wait_until(lambda: _state(page) == "completed", 60, "the sweep to complete")
    total = len(httpx.get(f"{service.url}/api/runs/{run_id}/samples", timeout=60)
                .json()["rows"])

    def counts() -> dict[str, int]:
        return page.js("return Object.fromEntries([...document.querySelectorAll("
                       "'[data-figure]')].map((f) => [f.dataset.figure, "
                       "Number(f.dataset.points)]))")

    wait_until(lambda: counts() == {"jv": total, "lv": total, "cej": total, "eqej": total,
                                    "pej": total}, 30,
               f"J-V, L-V, CE-J, EQE-J and PE-J with all {total} samples")
    page.screenshot(ARTIFACTS / "dashboard-jvl-desktop.png")
    assert _script_errors(page) == []


class _ServiceThread:
    """The service in this process (uvicorn in a thread) with settings of the test's choice:
    its policy can be that of a non-loopback bind while it listens on 127.0.0.1 only."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="service", daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        wait_until(lambda: self.server.started, 60, "the service to start")
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def closed_service(tmp_path_factory):
    """A service whose reads need the token too (the policy of a non-loopback bind), on the
    simulated film."""
    data = tmp_path_factory.mktemp("closed")
    settings = Settings(db_url=f"sqlite:///{data / 'closed.sqlite'}", token=TOKEN,
                        data_dir=data, host="0.0.0.0",
                        rigs=[RigSpec(name="rig1", spec=FILM_RIG)])
    with _ServiceThread(settings) as closed:
        closed.db_url = settings.db_url
        wait_until(lambda: httpx.get(closed.url + "/api/health", headers=AUTH, timeout=60)
                   .json()["rigs"].get("rig1"), 60, "the film rig to connect")
        yield closed


def _open_with_token(b: Browser, url: str) -> str:
    """Open the page with no token kept; enter it when asked. The reason the page gave."""
    b.viewport(*DESKTOP)
    b.get(url)
    b.js("sessionStorage.clear()")
    b.refresh()
    wait_until(lambda: b.js("return document.getElementById('token-dialog').open"), 30,
               "the page to ask for the token")
    reason = b.text("#token-dialog .reason")
    b.type("#token-dialog input[name=token]", TOKEN)
    b.click("#token-save")
    return reason


def test_with_reads_closed_the_page_asks_the_token_and_follows_a_run_by_polling(
        browser, closed_service):
    assert "missing bearer token" in _open_with_token(browser, closed_service.url + "/")
    wait_until(lambda: "connected" in browser.text("article.rig[data-rig=rig1] header"), 30,
               "the rig card, read with the token")
    _start(browser, "photostability", {})
    first = wait_until(lambda: _state(browser) == "running" and _points(browser), 30,
                       "the first points of the running run")
    assert "data: polling" in browser.text("#link-state")
    wait_until(lambda: _points(browser) > first, 30, "more points from polling")
    # (the film's two device hours poll the interlock every 50 ms: ~144,000 passes)
    wait_until(lambda: _state(browser) == "completed", 240, "the run to complete")
    wait_until(lambda: browser.js("return document.querySelector("
                                  "'[data-figure=photostability]').dataset.points > 10"),
               30, "the normalised PL plot")
    browser.screenshot(ARTIFACTS / "dashboard-photostability-desktop.png")
    assert _script_errors(browser) == []


def test_with_reads_closed_the_csv_export_link_downloads_with_the_token(
        browser, closed_service, tmp_path):
    run_id = _store_long_lifetime_run(closed_service.db_url, 500)
    _open_with_token(browser, f"{closed_service.url}/#/runs/{run_id}")
    browser.cdp("Browser.setDownloadBehavior", {"behavior": "allow",
                                                "downloadPath": str(tmp_path)})
    browser.click(f"a[href='/api/runs/{run_id}/samples.csv']")
    target = tmp_path / f"run-{run_id}.csv"
    wait_until(lambda: target.exists() and target.stat().st_size > 0, 30, "the download")
    expected = httpx.get(f"{closed_service.url}/api/runs/{run_id}/samples.csv", headers=AUTH,
                         timeout=60)
    assert target.read_bytes() == expected.content
