"""Run keys: the random identity a run carries on the wire, and how people read it.

A key is drawn per run from the operating system's random source, 63 bits so it fits a
signed BIGINT on every database; two runs, on any database, service or host, do not share
one (a clash needs about 3e9 runs before it is as likely as not). 0 means "no run".
"""

import secrets

KEY_BITS = 63


def new_run_key() -> int:
    """A fresh nonzero run key."""
    while True:
        key = secrets.randbits(KEY_BITS)
        if key:
            return key


def key_text(key: int | None) -> str | None:
    """16 hex digits, as the API and events show a key (JSON numbers lose bits past 2**53)."""
    return None if not key else f"{key:016x}"


def board_text(board_id: int | None) -> str | None:
    """A board id as 16 hex digits, the form stored with a run and shown by the API."""
    return None if board_id is None else f"{board_id:016x}"
