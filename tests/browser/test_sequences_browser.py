"""The sequences pages (#/sequences, #/sequences/5) in headless Chromium against a real
`lumenrig serve` on a simulated G1 at ×50: a sequence started from a recipe with its JSON
tweaked on the page, its steps followed to their end with the stress's check-ups linked, the
run page's way back to its sequence, and a 422 problem shown beside the step it names.

The sequence is short (a J-V-L, a CV stress to L/L0 = 0.8 with check-ups every 60 s of stress
and at 0.9, a J-V-L): a few seconds of wall time. Every wait is for a state, never for a time.
Screenshots go to test-artifacts/.
"""

import json

import httpx
import pytest

from tests.support.browser import Browser, wait_until
from tests.support.paths import ARTIFACTS
from tests.support.service_proc import TOKEN, ServiceProcess

RIG = "sim:G1?accel=50&seed=11"
RECIPE = "cv-lifetime-with-checkups"
DESKTOP = (1280, 900)
PHONE = (390, 844)
SWEEP = {"start_v": 0, "stop_v": 10, "step_v": 0.5, "dwell_s": 0.2}
CHECKUP = {"kind": "jvl", "params": {"start_v": 8, "stop_v": 10, "step_v": 0.5, "dwell_s": 0.2}}
# A short stress: G1 at 10 V falls to 0.8 in about 150 s of stress (3 s of wall at ×50), with
# a check-up at L/L0 = 0.9 whatever the pace (a time-based one alone might come after the end).
STRESS = {"stop_fraction": 0.8}
CHECKUPS = {"every_s": 60, "at_fractions": [0.9], "step": CHECKUP}
# A sequence typed in as JSON.
SHORT = {"name": "short CV with check-ups", "steps": [
    {"kind": "jvl", "params": SWEEP},
    {"kind": "lifetime", "params": {"voltage_v": 10, **STRESS}, "checkups": CHECKUPS}]}
LABELS = {"seq-device-name": "G1-seq", "seq-device-pixel": "B2", "seq-operator": "ana",
          "seq-tags": "seq, e2e"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("sequences")
    proc = ServiceProcess([RIG], f"sqlite:///{data / 'sequences.sqlite'}", data).start()
    yield proc
    proc.stop()


@pytest.fixture
def page(browser, service):
    """The sequences view at desktop size with no token kept, its form drawn."""
    browser.viewport(*DESKTOP)
    browser.get(service.url + "/#/sequences")
    browser.js("sessionStorage.clear()")
    browser.refresh()
    browser.element("#sequence-form")
    browser.console_errors()
    return browser


def _get(service, path: str) -> httpx.Response:
    return httpx.get(service.url + path, timeout=60)


def _script_errors(b: Browser) -> list[str]:
    """Console errors other than HTTP errors (a 401 before the token, the 422 asked for)."""
    return [m for m in b.console_errors() if "Failed to load resource" not in m]


def _set_json(b: Browser, spec: dict) -> None:
    b.js("const t = document.getElementById('seq-json'); t.value = arguments[0];"
         "t.dispatchEvent(new Event('input', { bubbles: true }))", json.dumps(spec, indent=2))


def _page_json(b: Browser) -> dict:
    return json.loads(b.js("return document.getElementById('seq-json').value"))


def _submit(b: Browser, until: str, what: str) -> None:
    """Press Start; give the token if the page asks for it; wait for the `until` script."""
    b.click("#seq-submit")
    asked = "return document.getElementById('token-dialog').open ? 'asked' : (" + until + ")"
    if wait_until(lambda: b.js(asked), 30, f"the token dialog or {what}") == "asked":
        b.type("#token-dialog input[name=token]", TOKEN)
        b.click("#token-save")
        wait_until(lambda: b.js("return " + until), 30, what)


def _steps_shown(b: Browser) -> list[str]:
    return b.js("return [...document.querySelectorAll('#seq-steps-list li.seq-step')]"
                ".map((li) => li.dataset.state)")


def _links(b: Browser, css: str) -> list[int]:
    return b.js("return [...document.querySelectorAll(arguments[0])]"
                ".map((a) => Number(a.dataset.run))", css)


def test_a_bad_edit_shows_the_apis_problem_beside_its_step(page, service):
    bad = json.loads(json.dumps(SHORT))
    bad["steps"][1]["params"]["voltage_v"] = 99
    _set_json(page, bad)
    assert page.js("return document.querySelectorAll('#seq-steps li[data-step]').length") == 2
    _submit(page, "document.querySelector('#seq-problems li') !== null", "the API's problem")
    where = "steps.1.lifetime.params.voltage_v"
    problem = page.text(f"#seq-problems li[data-where='{where}']")
    assert problem.startswith(where) and "19.995" in problem, problem
    assert page.js("return [...document.querySelectorAll('#seq-steps li.has-problem')]"
                   ".map((li) => Number(li.dataset.step))") == [1]
    page.screenshot(ARTIFACTS / "dashboard-sequence-form-422-desktop.png")
    page.viewport(*PHONE, mobile=True)
    wait_until(lambda: page.js("return document.documentElement.scrollWidth") <= PHONE[0], 30,
               "the form to fit a phone")
    page.screenshot(ARTIFACTS / "dashboard-sequence-form-phone.png")
    page.viewport(*DESKTOP)
    # Broken JSON is named on the page and never sent.
    page.js("const t = document.getElementById('seq-json'); t.value = '{\"steps\": [';"
            "t.dispatchEvent(new Event('input', { bubbles: true }))")
    assert page.text("#seq-json-error").startswith("The JSON:")
    assert _get(service, "/api/sequences").json()["sequences"] == []
    assert _script_errors(page) == []


def test_a_sequence_from_a_recipe_runs_its_steps_and_links_its_checkups(page, service):
    recipe = next(r for r in _get(service, "/api/recipes").json()["recipes"]
                  if r["name"] == RECIPE)
    page.js("const s = document.getElementById('seq-recipe'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('change', { bubbles: true }))", RECIPE)
    assert _page_json(page) == recipe["spec"]
    assert page.js("return document.querySelectorAll('#seq-steps li[data-step]').length") \
        == len(recipe["spec"]["steps"])
    # Tweaked on the page: the stress to 0.8, so it is short.
    spec = _page_json(page)
    stress = next(s for s in spec["steps"] if s["kind"] == "lifetime")
    stress["params"].update(STRESS)
    stress["checkups"] = CHECKUPS
    _set_json(page, spec)
    preview = page.text("#seq-steps")
    assert "until L/L0 = 0.8" in preview and "every 60 s of stress and at L/L0 = 0.9" in preview, \
        preview
    for field, value in LABELS.items():
        page.type(f"#{field}", value)
    _submit(page, "/^#\\/sequences\\/\\d+$/.test(location.hash)", "the sequence page")
    sequence_id = int(page.js("return location.hash").rsplit("/", 1)[1])

    wait_until(lambda: page.js("return document.getElementById('seq-head').dataset.state")
               == "completed", 120, "the page to show the sequence completed")
    view = _get(service, f"/api/sequences/{sequence_id}").json()
    assert view["state"] == "completed"
    device = {k: v for k, v in view["spec"]["device"].items() if v is not None}
    assert device == {"name": "G1-seq", "pixel": "B2"}
    assert (view["spec"]["operator"], view["spec"]["tags"]) == ("ana", ["seq", "e2e"])
    wait_until(lambda: _steps_shown(page) == ["completed"] * len(spec["steps"]), 30,
               "every step completed on the page")
    assert page.text("#seq-phase").startswith("completed")
    assert not page.find("#seq-abort")  # nothing left to abort
    stress = next(s for s in view["steps"] if s["kind"] == "lifetime")
    assert stress["checkups"], view["steps"]
    assert _links(page, "#seq-steps-list li.seq-step > div > .seq-run > a") == [
        s["run_id"] for s in view["steps"]]
    assert _links(page, f"li.seq-step[data-step='{stress['index']}'] ol.seq-checkups a") \
        == stress["checkups"]
    # The report: the stress's L0, a row per check-up, its figure.
    report = _get(service, f"/api/sequences/{sequence_id}/report").json()
    wait_until(lambda: _links(page, "#report-checkups tbody tr") == stress["checkups"], 60,
               "the report's check-ups")
    assert page.text("#report-headline tr[data-key=l0_cd_m2] td").endswith("cd/m²")
    assert page.text("#report-headline tr[data-key=stress]") == (
        f"stress\t{report['headline']['stress']['text']} (run #{stress['run_id']})")
    wait_until(lambda: page.js("const i = document.querySelector("
                               "'#report-figure[data-partial=false] #report-png');"
                               "return !!i && i.complete && i.naturalWidth > 0"), 240,
               "the final report's figure")  # (drawn by the service: a minute and more with
    # no core to spare)
    page.screenshot(ARTIFACTS / "dashboard-sequence-desktop.png")
    page.viewport(*PHONE, mobile=True)
    wait_until(lambda: page.js("return document.documentElement.scrollWidth") <= PHONE[0], 30,
               "the sequence page to fit a phone")
    page.screenshot(ARTIFACTS / "dashboard-sequence-phone.png")
    page.viewport(*DESKTOP)

    # A check-up's run page leads back to the stress and the sequence.
    checkup = stress["checkups"][0]
    page.click(f"ol.seq-checkups a[data-run='{checkup}']")
    wait_until(lambda: page.text("#run-sequence") == (
        f"check-up of run {stress['run_id']}, sequence {sequence_id}"), 30,
        "the check-up's place in its sequence")
    page.click(f"#run-sequence a[href='#/sequences/{sequence_id}']")
    wait_until(lambda: page.js("return document.getElementById('seq-head')?.dataset.state")
               == "completed", 30, "the sequence page again")

    # The list names it, its state and its last step.
    page.click("#nav-sequences")
    row = f"table.sequences tr[data-sequence='{sequence_id}']"
    wait_until(lambda: page.find(row), 30, "the sequence in the list")
    shown = page.text(row)
    n = len(spec["steps"])
    for word in (spec["name"], "rig1", "completed", f"step {n} of {n}"):
        assert word in shown, (word, shown)
    assert _script_errors(page) == []


def test_a_running_sequence_shows_its_steps_progress_and_aborts_from_the_page(page, service):
    # A stress to L/L0 = 0.1: far longer than the test (G1 at 10 V has T50 ~630 s), so the
    # page is seen while it runs whatever the machine's pace; a check-up every 300 s of
    # stress (6 s of wall at ×50) leaves it running most of the time.
    long = {"rig": "rig1", "name": "long stress", "steps": [
        {"kind": "jvl", "params": SWEEP},
        {"kind": "lifetime", "params": {"voltage_v": 10, "stop_fraction": 0.1},
         "checkups": {"every_s": 300, "step": CHECKUP}},
        {"kind": "jvl", "params": SWEEP}]}
    response = httpx.post(service.url + "/api/sequences", json=long, timeout=60,
                          headers={"Authorization": "Bearer " + TOKEN})
    assert response.status_code == 201, response.text
    sequence_id = response.json()["id"]
    page.get(f"{service.url}/#/sequences/{sequence_id}")
    wait_until(lambda: _steps_shown(page)[:3] == ["completed", "running", "pending"], 30,
               "the first sweep done and the stress running")
    wait_until(lambda: _links(page, "li.seq-step[data-step='1'] ol.seq-checkups a"), 60,
               "a check-up linked under the stress")
    wait_until(lambda: page.text("#seq-phase") == "step 2 of 3: stress running", 30,
               "the stress running again after its check-up")
    page.screenshot(ARTIFACTS / "dashboard-sequence-running-desktop.png")

    page.click("#seq-abort")
    page.click("#seq-abort-confirm")
    wait_until(lambda: page.js("return document.getElementById('token-dialog').open ||"
                               " document.getElementById('seq-head').dataset.state === 'aborted'"),
               30, "the token dialog or the sequence aborted")
    if page.js("return document.getElementById('token-dialog').open"):
        page.type("#token-dialog input[name=token]", TOKEN)
        page.click("#token-save")
    wait_until(lambda: page.js("return document.getElementById('seq-head').dataset.state")
               == "aborted", 30, "the page to show the sequence aborted")
    assert page.text("#seq-phase") == "aborted"
    wait_until(lambda: _steps_shown(page)[1:] == ["aborted", "pending"], 30,
               "the stress aborted and the last sweep never started")
    assert not page.find("#seq-abort")
    assert _get(service, f"/api/sequences/{sequence_id}").json()["state"] == "aborted"
    assert _script_errors(page) == []


# The page's fetch answers 503 to the first two reads of the report and of its figure, as a
# service too busy to answer would, then lets every read through.
BUSY_AT_FIRST = """
const real = window.fetch;
window.refused = { report: 0, figure: 0 };
window.fetch = (url, options) => {
  const path = String(url);
  const which = path.endsWith("/report") ? "report" : path.includes("/report.png") ? "figure"
    : null;
  if (which && window.refused[which] < 2) {
    window.refused[which] += 1;
    return Promise.resolve(new Response("busy", { status: 503, statusText: "busy" }));
  }
  return real(url, options);
};
"""


def test_an_ended_sequences_report_and_figure_come_after_reads_that_failed(page, service):
    # Once a sequence has ended its page stops refreshing: a report or figure read that
    # failed must be asked again, or the page would keep the failure (or a partial figure).
    response = httpx.post(service.url + "/api/sequences", timeout=60,
                          json={"rig": "rig1", **SHORT},
                          headers={"Authorization": "Bearer " + TOKEN})
    assert response.status_code == 201, response.text
    sequence_id = response.json()["id"]
    wait_until(lambda: _get(service, f"/api/sequences/{sequence_id}").json()["state"]
               == "completed", 300, "the short sequence to complete")
    page.js(BUSY_AT_FIRST)
    page.js("location.hash = arguments[0]", f"#/sequences/{sequence_id}")
    wait_until(lambda: page.js("const i = document.querySelector("
                               "'#report-figure[data-partial=false] #report-png');"
                               "return !!i && i.complete && i.naturalWidth > 0"), 240,
               "the report's figure after two refused reads of each")
    assert page.js("return window.refused") == {"report": 2, "figure": 2}
    assert page.text("#report-headline tr[data-key=l0_cd_m2] td").endswith("cd/m²")
    assert page.find("#report-status .form-error") is None
    assert page.js("return document.getElementById('report-figure').dataset.error") is None
    assert _script_errors(page) == []
