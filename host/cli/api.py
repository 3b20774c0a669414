"""How the client commands reach the service: the token, one request, and a refusal or an
unreachable service as an exception carrying the message and the exit code to end with."""

import os
from pathlib import Path
from typing import Any

import httpx

from host.security import TOKEN_ENV, TOKEN_FILE

EXIT_UNREACHABLE = 1  # the service did not answer: trying again later may work
EXIT_REFUSED = 2  # the service answered no: the request itself must change


class ServiceError(Exception):
    """A request that did not succeed; str() is the line to show, exit_code how to end."""

    exit_code = EXIT_REFUSED


class Unreachable(ServiceError):
    exit_code = EXIT_UNREACHABLE


class Refused(ServiceError):
    def __init__(self, status: int, detail: str):
        super().__init__("%d: %s" % (status, detail))
        self.status = status


def find_token(given: str | None, data_dir: Path) -> str | None:
    """--token, else LUMENRIG_TOKEN, else the token file `serve` keeps in its data folder:
    the folder the CLI is started from plays no part, so it works from anywhere."""
    for candidate in (given, os.environ.get(TOKEN_ENV)):
        if candidate and candidate.strip():
            return candidate.strip()
    path = Path(data_dir) / TOKEN_FILE
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder of another user (mode 0600): say so instead of a trace
        raise ServiceError("cannot read the token in %s: %s" % (path, exc.strerror)) from None


def detail_of(response: httpx.Response) -> str:
    """The service's {"detail": ...} message, else the start of whatever answered."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if detail is None:
        return response.text.strip()[:300] or response.reason_phrase
    return detail if isinstance(detail, str) else str(detail)


class Service:
    """One service at `server`; every request carries the bearer token when there is one."""

    def __init__(self, server: str, bearer: str | None, data_dir: Path):
        """bearer: the token this client sends (the service's own is never in the client)."""
        self.server = server.rstrip("/")
        self.bearer = bearer
        self.data_dir = data_dir

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.bearer} if self.bearer else {}

    def need_token(self) -> None:
        """Changing anything needs the token: say where it was looked for before asking."""
        if not self.bearer:
            raise ServiceError("no token: give --token, set %s, or point --data-dir at the "
                               "service's data folder (no %s there)"
                               % (TOKEN_ENV, Path(self.data_dir) / TOKEN_FILE))

    def request(self, method: str, path: str, timeout_s: float = 30, **kwargs: Any) -> Any:
        """The answer's JSON; Unreachable when the service does not answer, Refused (with
        its detail) for any 4xx or 5xx."""
        try:
            response = httpx.request(method, self.server + path, headers=self.headers,
                                     timeout=timeout_s, **kwargs)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise Unreachable("cannot reach %s: %s" % (self.server, exc)) from None
        if response.status_code >= 400:
            raise Refused(response.status_code, detail_of(response))
        try:
            return response.json()
        except ValueError:
            raise ServiceError("%s answered %s with something other than JSON: is it a "
                               "lumenrig service?" % (self.server, path)) from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        self.need_token()
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        self.need_token()
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        self.need_token()
        return self.request("PUT", path, **kwargs)
