"""The FastAPI application: routes, error handling, body limit; no CORS (closed by default)."""

from typing import Any

from fastapi import FastAPI

from host.api import errors
from host.api.limits import BodyLimit
from host.api.routes_rigs import router as rigs_router
from host.api.routes_runs import router as runs_router
from host.web.mount import mount_dashboard


def build_app(service: Any, lifespan: Any) -> FastAPI:
    app = FastAPI(title="lumenrig", version="0.1.0", lifespan=lifespan,
                  description="LED and emissive-film lifetime rig: runs, samples, live stream.")
    app.state.service = service
    errors.install(app)
    app.include_router(rigs_router)
    app.include_router(runs_router)
    mount_dashboard(app)
    app.add_middleware(BodyLimit)
    return app
