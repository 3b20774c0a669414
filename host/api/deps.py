"""Request dependencies: the service, and the bearer-token checks."""

from fastapi import HTTPException, Request

from host.security import bearer_from_header, token_matches

TOKEN_HINT = ("send 'Authorization: Bearer <token>': the token is LUMENRIG_TOKEN or the one "
              "printed at first start and kept in the data folder's 'token' file")


def service(request: Request):
    return request.app.state.service


def _check(request: Request) -> None:
    presented = bearer_from_header(request.headers.get("authorization"))
    if not token_matches(presented, request.app.state.service.settings.token):
        reason = "missing bearer token" if presented is None else "wrong bearer token"
        raise HTTPException(401, "%s: %s" % (reason, TOKEN_HINT),
                            headers={"WWW-Authenticate": "Bearer"})


def control_access(request: Request) -> None:
    """Every POST/PUT: the token, always."""
    _check(request)


def read_access(request: Request) -> None:
    """GETs: open on a loopback bind, the token otherwise."""
    if not request.app.state.service.settings.loopback:
        _check(request)
