"""Swagger UI at /docs, its files served from the pinned `fastapi-swagger` wheel: no CDN, the
lab may be offline.

The wheel ships Swagger UI 5 (which reads the OpenAPI 3.1 FastAPI writes). Like the schema,
these routes are open on every bind: they hold no data, and "Try it out" sends the token
given under "Authorize".
"""

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response

from host.web.mount import VENDOR_CACHE

DOCS_URL = "/docs"
SWAGGER_PACKAGE = "fastapi_swagger"
SWAGGER_URL = "/vendor/swagger-ui/"
# The files the page loads: name in the package's resources -> media type.
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                 "favicon-32x32.png": "image/png"}
# validatorUrl None: Swagger UI would otherwise send the schema to validator.swagger.io.
SWAGGER_PARAMETERS = {"validatorUrl": None}
NOT_INSTALLED = ("Swagger UI is not installed: run `make install` (fastapi-swagger is pinned in "
                 "requirements.txt); the schema itself is at /openapi.json")


def swagger_dir() -> Path | None:
    """The installed wheel's folder of Swagger UI files, found without importing it."""
    spec = importlib.util.find_spec(SWAGGER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    return folder if all((folder / name).is_file() for name in SWAGGER_FILES) else None


def mount_docs(app: FastAPI, openapi_url: str) -> None:
    """GET /docs and the Swagger UI files under /vendor/swagger-ui/."""
    folder = swagger_dir()

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> Response:
        if folder is None:
            return JSONResponse(status_code=503, content={"detail": NOT_INSTALLED})
        return get_swagger_ui_html(
            openapi_url=openapi_url, title="%s API" % app.title,
            swagger_js_url=SWAGGER_URL + "swagger-ui-bundle.js",
            swagger_css_url=SWAGGER_URL + "swagger-ui.css",
            swagger_favicon_url=SWAGGER_URL + "favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS)

    @app.get(SWAGGER_URL + "{name}", include_in_schema=False)
    async def swagger_file(name: str) -> Response:
        if name not in SWAGGER_FILES:
            return JSONResponse(status_code=404, content={"detail": "no Swagger UI file %r"
                                                          % name})
        if folder is None:
            return JSONResponse(status_code=404, content={"detail": NOT_INSTALLED})
        return FileResponse(folder / name, media_type=SWAGGER_FILES[name],
                            headers=VENDOR_CACHE)

