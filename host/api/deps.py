"""Request dependencies: the service, the bearer-token checks, the rig path parameter."""

from typing import Annotated

from fastapi import HTTPException, Path, Request
from fastapi.security import HTTPBearer

from host.security import bearer_from_header, token_matches

TOKEN_SOURCE = ("the token is LUMENRIG_TOKEN or the one printed at first start and kept in the "
                "data folder's 'token' file")
TOKEN_HINT = "send 'Authorization: Bearer <token>': " + TOKEN_SOURCE
BEARER_SCHEME = "bearer"  # the security scheme's name in the API's schema
RigName = Annotated[str, Path(description="the rig's name (GET /api/rigs lists them)")]


def service(request: Request):
    return request.app.state.service


def _check(request: Request) -> None:
    presented = bearer_from_header(request.headers.get("authorization"))
    if not token_matches(presented, request.app.state.service.settings.token):
        reason = "missing bearer token" if presented is None else "wrong bearer token"
        raise HTTPException(401, "%s: %s" % (reason, TOKEN_HINT),
                            headers={"WWW-Authenticate": "Bearer"})


class _ControlAccess(HTTPBearer):
    """Every POST/PUT/PATCH: the token, always. Being an HTTPBearer, it is what puts the
    bearer scheme in the API's schema on these operations (Swagger UI's Authorize sends it);
    the check and its 401 are _check's, the same as for reads."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        _check(request)


control_access = _ControlAccess(
    scheme_name=BEARER_SCHEME, auto_error=False,
    description="The control token (%s). Every POST, PUT and PATCH needs it; on a service bound "
                "to a non-loopback address every endpoint does." % TOKEN_SOURCE)


def read_access(request: Request) -> None:
    """GETs: open on a loopback bind, the token otherwise (host.api.openapi then names the
    scheme on every operation)."""
    if not request.app.state.service.settings.loopback:
        _check(request)
