"""Commands between the sites of a lab (host.lab.commands): a row per request, taken by the
site it is for, answered with an HTTP status and body. On PostgreSQL each new command and
each answer is also a NOTIFY, which wakes the other side at once; so is every stored batch,
event and run change (RUNS_CHANNEL), for live streams on other sites (host.lab.relay)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from host.store.sites import db_now
from host.store.tables import commands

COMMANDS_CHANNEL = "lumenrig_commands"  # payload: the site the command is for
ANSWERS_CHANNEL = "lumenrig_answers"  # payload: the command's id
RUNS_CHANNEL = "lumenrig_runs"  # payload: a run id whose samples, events or row changed


@dataclass(frozen=True)
class Command:
    """A command a site has taken; age_s by the database's clock."""

    id: int
    site: str
    from_site: str
    action: str
    body: dict[str, Any]
    age_s: float


class CommandRecords:
    """Store methods for lab commands; Store provides _write, _read and dialect."""

    dialect: str
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    _read: Callable[[], AbstractContextManager[sa.Connection]]

    def add_command(self, site: str, from_site: str, action: str,
                    body: Mapping[str, Any]) -> int:
        """Leave a command for `site`; its id."""
        with self._write() as conn:
            command_id = conn.execute(commands.insert().values(
                site=site, from_site=from_site, action=action, body=dict(body),
                state="pending", created_at=db_now(conn)).returning(commands.c.id)).scalar_one()
            self._notify(conn, COMMANDS_CHANNEL, site)
        return command_id

    def take_commands(self, site: str) -> list[Command]:
        """The commands pending for `site`, oldest first, marked taken (each is taken once,
        however many services look)."""
        pending = (sa.select(commands.c.id).where(commands.c.site == site,
                                                  commands.c.state == "pending").limit(1))
        with self._read() as conn:  # (the usual answer, without taking the write lock)
            if conn.execute(pending).first() is None:
                return []
        with self._write() as conn:
            now = db_now(conn)
            query = (sa.select(commands).where(commands.c.site == site,
                                               commands.c.state == "pending")
                     .order_by(commands.c.id))
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if rows:
                conn.execute(commands.update().where(commands.c.id.in_([r.id for r in rows]))
                             .values(state="taken"))
        return [Command(r.id, r.site, r.from_site, r.action, dict(r.body),
                        (now - r.created_at).total_seconds()) for r in rows]

    def answer_command(self, command_id: int, status: int, answer: Any) -> None:
        with self._write() as conn:
            conn.execute(commands.update().where(commands.c.id == command_id).values(
                state="answered", status=status, answer=answer, answered_at=db_now(conn)))
            self._notify(conn, ANSWERS_CHANNEL, str(command_id))

    def command_answer(self, command_id: int) -> tuple[int, Any] | None:
        """(status, body) once the command is answered, else None."""
        with self._read() as conn:
            row = conn.execute(sa.select(commands.c.state, commands.c.status,
                                         commands.c.answer)
                               .where(commands.c.id == command_id)).one()
        return (row.status, row.answer) if row.state == "answered" else None

    def _notify(self, conn: sa.Connection, channel: str, payload: str) -> None:
        """Delivered to every listener when the transaction commits (PostgreSQL)."""
        if self.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_notify(channel, payload)))
