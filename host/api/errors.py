"""Errors as JSON a person can act on: {"detail": "..."} with the right status."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from host.runs.errors import RunError
from host.store.errors import (
    CalibrationNotFound,
    InvalidRunUpdate,
    RigNotFound,
    RunNotFound,
    SequenceNotFound,
)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    # Drop the discriminator tag pydantic puts in a union's location.
    parts = [p for p in parts if p not in ("lifetime", "photostability", "jvl")
             or parts.index(p) != 0]
    return ".".join(parts) or "body"


def _sentence(error: dict[str, Any]) -> str:
    where = _where(tuple(error.get("loc", ())))
    message = error.get("msg", "invalid")
    if error.get("type") == "extra_forbidden":
        return "%s: unknown field (check the spelling; the docs at /docs list the fields)" % where
    if error.get("type") == "missing":
        return "%s: required" % where
    if "input" in error and error.get("type") not in ("json_invalid",):
        value = error["input"]
        if not isinstance(value, (dict, list)) and len(repr(value)) < 60:
            return "%s: %s (got %r)" % (where, message, value)
    return "%s: %s" % (where, message)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse(status_code=422, content={
            "detail": "; ".join(_sentence(e) for e in errors[:10]),
            "errors": [{"where": _where(tuple(e.get("loc", ()))), "message": e.get("msg")}
                       for e in errors[:50]],
        })

    @app.exception_handler(RunError)
    async def _run_error(request: Request, exc: RunError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.message})

    @app.exception_handler(RunNotFound)
    async def _no_run(request: Request, exc: RunNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(SequenceNotFound)
    async def _no_sequence(request: Request, exc: SequenceNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(CalibrationNotFound)
    async def _no_calibration(request: Request, exc: CalibrationNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(InvalidRunUpdate)
    async def _bad_update(request: Request, exc: InvalidRunUpdate) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(RigNotFound)
    async def _no_rig(request: Request, exc: RigNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": "no rig named %r" % exc.rig})
