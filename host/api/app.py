"""The FastAPI application: routes, error handling, body limit; no CORS (closed by default)."""

from typing import Any

from fastapi import FastAPI

from host.api import errors, openapi
from host.api.docs import mount_docs
from host.api.limits import BodyLimit
from host.api.responses import ERRORS
from host.api.routes_recipes import router as recipes_router
from host.api.routes_rigs import router as rigs_router
from host.api.routes_runs import router as runs_router
from host.api.routes_selftest import router as selftest_router
from host.api.routes_sequence_report import router as sequence_report_router
from host.api.routes_sequences import router as sequences_router
from host.web.mount import mount_dashboard

OPENAPI_URL = "/openapi.json"


def build_app(service: Any, lifespan: Any) -> FastAPI:
    # FastAPI's own /docs and /redoc load their scripts from a CDN: /docs is ours (host.api.docs).
    app = FastAPI(title="lumenrig", version="0.1.0", lifespan=lifespan,
                  description="LED and emissive-film lifetime rig: runs, samples, live stream.",
                  openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None,
                  swagger_ui_oauth2_redirect_url=None)
    app.state.service = service
    errors.install(app)
    for router in (rigs_router, runs_router, selftest_router, sequences_router,
                   recipes_router, sequence_report_router):
        app.include_router(router, responses=ERRORS)  # every route's 401 and 422 documented
    openapi.install(app, loopback=service.settings.loopback)
    mount_docs(app, OPENAPI_URL)
    mount_dashboard(app)
    app.add_middleware(BodyLimit)
    return app
