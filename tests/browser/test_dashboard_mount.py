"""The dashboard's files are served by the app: the page at /, its modules, plotly.js from
its installed package; nothing is fetched from another host."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from host.service import create_app
from host.settings import Settings
from host.web.mount import STATIC_DIR, plotly_js_path

TOKEN = "t0ken-for-the-dashboard-tests"
IMPORT = re.compile(r"""^\s*import\s.*?from\s+["'](\./[^"']+)["']""", re.MULTILINE)


def _client(tmp_path: Path, host: str = "127.0.0.1") -> TestClient:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'web.sqlite'}", token=TOKEN,
                        data_dir=tmp_path, host=host)
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path):
    with _client(tmp_path) as test_client:
        yield test_client


def test_root_serves_the_dashboard_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/app.js">' in response.text


def test_page_and_scripts_are_open_on_a_non_loopback_bind_while_the_api_is_not(tmp_path):
    with _client(tmp_path, host="0.0.0.0") as c:
        assert c.get("/api/runs").status_code == 401
        assert c.get("/").status_code == 200
        assert c.get("/static/js/app.js").status_code == 200
        assert c.get("/vendor/plotly.min.js").status_code == 200


def test_plotly_js_is_the_installed_packages_own_file(client):
    path = plotly_js_path()
    assert path is not None, "plotly is pinned in requirements.txt: `make install`"
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == path.read_bytes()


def test_every_module_the_page_imports_is_served(client):
    pending, seen = ["app.js"], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        response = client.get("/static/js/" + name)
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(("text/javascript",
                                                             "application/javascript"))
        pending += [m[2:] for m in IMPORT.findall(response.text)]
    assert seen == {p.name for p in (STATIC_DIR / "js").glob("*.js")}


def test_dashboard_files_fetch_nothing_from_another_host():
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text), path
            assert not re.search(r"""(fetch|import|EventSource)\s*\(\s*["'`]https?:""", text), path


def test_own_files_are_revalidated_so_an_update_shows_at_once(client):
    assert client.get("/").headers["cache-control"] == "no-cache"
    assert client.get("/static/style.css").headers["cache-control"] == "no-cache"
