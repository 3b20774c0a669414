"""Swagger UI at /docs in headless Chromium: it renders the API from the service alone, and
"Authorize" then "Try it out" sends the control token."""

import httpx
import pytest

from tests.support.browser import Browser, wait_until
from tests.support.service_proc import TOKEN, ServiceProcess

ABORT = "#operations-default-abort_run_api_runs__run_id__abort_post"
STATUS = ABORT + " .live-responses-table tbody .response-col_status"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("docs")
    proc = ServiceProcess([], f"sqlite:///{data / 'docs.sqlite'}", data).start()
    yield proc
    proc.stop()


@pytest.fixture
def docs(browser, service):
    browser.get(service.url + "/docs")
    browser.element(".opblock", 20)
    browser.console_errors()
    return browser


def _operations(b: Browser) -> int:
    return b.js("return document.querySelectorAll('.opblock').length")


def test_docs_render_every_operation_from_files_of_the_service_alone(docs, service):
    paths = httpx.get(service.url + "/openapi.json", timeout=60).json()["paths"]
    assert _operations(docs) == sum(len(operations) for operations in paths.values())
    loaded = docs.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(service.url + "/") for url in loaded), loaded
    assert not docs.console_errors()


def test_try_it_out_is_refused_before_authorize_and_sends_the_token_after(docs):
    docs.click(ABORT + " .opblock-summary-control")
    docs.click(ABORT + " .try-out__btn")
    docs.type(ABORT + " tr[data-param-name='run_id'] input", "999")
    docs.click(ABORT + " .btn.execute")
    assert wait_until(lambda: docs.text(STATUS), 30, "the first answer") == "401"

    docs.click(".btn.authorize")
    docs.type("#auth-bearer-value", TOKEN)
    docs.click(".auth-btn-wrapper .btn.authorize")
    docs.click(".auth-btn-wrapper .btn-done")
    docs.click(ABORT + " .btn.execute")
    # Past the token check: the run does not exist.
    assert wait_until(lambda: docs.text(STATUS) if docs.text(STATUS) != "401" else None, 30,
                      "the answer with the token") == "404"
    assert "no run with id 999" in docs.text(ABORT + " .live-responses-table tbody")
