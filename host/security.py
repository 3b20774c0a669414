"""Bearer-token access: where the token comes from and how a request is checked."""

import hmac
import ipaddress
import os
import secrets
from pathlib import Path

TOKEN_ENV = "LUMENRIG_TOKEN"
TOKEN_FILE = "token"


class TokenError(RuntimeError):
    """The service cannot start with the token situation as it is."""


def load_or_create_token(data_dir: Path) -> tuple[str, bool]:
    """(token, created): LUMENRIG_TOKEN wins; else data_dir/token, generated on first start.

    The file is created with mode 0600 so only the service's user can read it.
    """
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        if len(from_env) < 16:
            raise TokenError("%s is shorter than 16 characters: use a longer secret" % TOKEN_ENV)
        return from_env, False
    path = Path(data_dir) / TOKEN_FILE
    if path.exists():
        token = path.read_text().strip()
        if len(token) < 16:
            raise TokenError("%s holds a token shorter than 16 characters: delete it and a new "
                             "one is generated" % path)
        return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


def token_matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing says nothing about the token."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def bearer_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
