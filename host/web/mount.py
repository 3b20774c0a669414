"""Serves the dashboard: the page at /, its own scripts, and plotly.js from its installed package.

The page holds no data (everything comes from /api, with the token where the service asks
for one), so these routes are open on every bind. The plotting library is served from where
`make install` put the `plotly` wheel: no CDN, the lab may be offline.
"""

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
PLOTLY_JS_URL = "/vendor/plotly.min.js"
PLOTLY_JS_IN_PACKAGE = ("package_data", "plotly.min.js")
NO_CACHE = {"Cache-Control": "no-cache"}  # revalidate: a service update shows at once
VENDOR_CACHE = {"Cache-Control": "public, max-age=86400"}


def plotly_js_path() -> Path | None:
    """plotly.min.js inside the installed `plotly` package, found without importing it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*PLOTLY_JS_IN_PACKAGE)
    return path if path.is_file() else None


class _Static(StaticFiles):
    """The dashboard's own files, always revalidated (ETag) so a new version loads at once."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(NO_CACHE)
        return response


def mount_dashboard(app: FastAPI) -> None:
    """GET / (the page), /static/... (its scripts and styles), /vendor/plotly.min.js."""
    plotly_js = plotly_js_path()

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)

    @app.get(PLOTLY_JS_URL, include_in_schema=False)
    async def plotly_library() -> Response:
        if plotly_js is None:
            return JSONResponse(status_code=404, content={
                "detail": "plotly is not installed: run `make install` (it is pinned in "
                          "requirements.txt); the dashboard works without plots meanwhile"})
        return FileResponse(plotly_js, media_type="text/javascript", headers=VENDOR_CACHE)

    app.mount("/static", _Static(directory=STATIC_DIR), name="dashboard-static")
