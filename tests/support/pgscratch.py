"""Throwaway PostgreSQL schemas for tests and benchmarks, so parallel runs never collide."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from host.store.sites import process_alive


def pg_unreachable_reason(url: str, timeout_s: int = 3) -> str | None:
    """None when url accepts a connection, else why not (for a skip or failure message)."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": timeout_s})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, OSError) as exc:  # driver or network: "not usable"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def drop_stale_schemas(base_url: str, prefix: str = "lumenrig_tmp") -> list[str]:
    """Drop schemas left by temporary_pg_schema in processes of this machine that died
    before cleaning up (their pid is in the name); returns the names dropped."""
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    dropped = []
    try:
        with admin.connect() as conn:
            names = conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                                 {"p": prefix + "\\_%"}).scalars().all()
            for name in names:
                pid = name[len(prefix) + 1:].split("_")[0]
                if pid.isdigit() and not process_alive(int(pid)):
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                    dropped.append(name)
    finally:
        admin.dispose()
    return dropped


@contextmanager
def temporary_pg_schema(base_url: str, prefix: str = "lumenrig_tmp") -> Iterator[str]:
    """Create a uniquely named schema, yield a URL whose tables land in it, then drop it.

    The URL sets `search_path` through libpq `options`, so a Store opened on it creates
    and uses its tables there and nowhere else.
    """
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        admin.dispose()
