"""The lab's shared records (host.lab): the sites serving one database, which rig each one
serves, the board behind each rig. Times are the database's own clock, so the services of
a lab never compare their computers' clocks."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from host.store.errors import ClaimRefused
from host.store.records import RigRecord
from host.store.tables import UtcDateTime, rigs, sites

OFFLINE_AFTER_S = 15.0  # a site without a heartbeat for this long is offline
# Held by the transactions that claim names (PostgreSQL): two services claiming one name at
# once take turns, and the second sees the first's claim.
PG_CLAIM_LOCK = 0x6C756D656E6C6162  # "lumenlab"


@dataclass(frozen=True)
class SiteRecord:
    """A service of the lab as the database knows it."""

    name: str
    api_url: str | None
    started_at: datetime
    heartbeat_at: datetime | None
    heartbeat_age_s: float | None  # None: stopped cleanly
    online: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "api_url": self.api_url,
                "started_at": self.started_at.isoformat(),
                "heartbeat_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None,
                "heartbeat_age_s": self.heartbeat_age_s, "online": self.online}


class LabRecords:
    """Store methods for lab mode; Store provides _write, _read, _insert and dialect."""

    dialect: str
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _insert: Callable[[sa.Table], Any]

    def register_site(self, name: str, instance: str, api_url: str | None,
                      hostname: str = "", pid: int = 0) -> None:
        """Take the site name for the running service `instance` (a random id) of process
        pid on hostname.

        Raises ClaimRefused while another service holds it online; a holder that was a
        process of this computer which is gone (killed, crashed) is replaced at once."""
        with self._write() as conn:
            now = self._claiming(conn)
            row = conn.execute(sa.select(sites).where(sites.c.name == name)).one_or_none()
            if (row is not None and row.instance != instance and _online(row, now)
                    and not (row.hostname == hostname and not process_alive(row.pid))):
                raise ClaimRefused(
                    "site %r is online: another service (%s, process %d on %s) sent its "
                    "heartbeat %.0f s ago; give this service another --site, or stop that "
                    "one" % (name, row.api_url or "no API address", row.pid, row.hostname,
                             _age_s(row, now)))
            values = {"instance": instance, "api_url": api_url, "hostname": hostname,
                      "pid": pid, "started_at": now, "heartbeat_at": now}
            conn.execute(self._insert(sites).values(name=name, **values).on_conflict_do_update(
                index_elements=[sites.c.name], set_=values))

    def beat_site(self, name: str, instance: str,
                  rig_status: Mapping[str, Mapping[str, Any]]) -> bool:
        """The site's heartbeat, with the state of each rig it serves; False when another
        service has taken the site over (this one was offline meanwhile)."""
        with self._write() as conn:
            now = db_now(conn)
            taken = conn.execute(sites.update().where(
                sites.c.name == name, sites.c.instance == instance).values(
                heartbeat_at=now)).rowcount != 1
            if taken:
                return False
            for rig, status in rig_status.items():
                conn.execute(rigs.update().where(rigs.c.name == rig, rigs.c.site == name)
                             .values(status=dict(status)))
            return True

    def stop_site(self, name: str, instance: str) -> None:
        """The service stops: its site is offline at once (not after OFFLINE_AFTER_S)."""
        with self._write() as conn:
            conn.execute(sites.update().where(sites.c.name == name,
                                              sites.c.instance == instance)
                         .values(heartbeat_at=None))

    def list_sites(self) -> list[SiteRecord]:
        with self._read() as conn:
            now = db_now(conn)
            rows = conn.execute(sa.select(sites).order_by(sites.c.name)).all()
        return [SiteRecord(row.name, row.api_url, row.started_at, row.heartbeat_at,
                           _age_s(row, now), _online(row, now)) for row in rows]

    def claim_rig(self, name: str, spec: str, site: str) -> RigRecord:
        """Serve the rig `name` from `site` (registering it if new).

        Raises ClaimRefused while another online site serves a rig of that name."""
        with self._write() as conn:
            now = self._claiming(conn)
            row = conn.execute(sa.select(rigs).where(rigs.c.name == name)).one_or_none()
            if row is not None and row.site not in (None, site):
                owner = conn.execute(sa.select(sites).where(sites.c.name == row.site)).one()
                if _online(owner, now):
                    raise ClaimRefused(
                        "rig %r is served by site %r (online): rig names are unique in the "
                        "lab; name this rig otherwise (NAME=SPEC)" % (name, row.site))
            values = {"spec": spec, "site": site, "last_seen": now}
            conn.execute(self._insert(rigs).values(name=name, first_seen=now, **values)
                         .on_conflict_do_update(index_elements=[rigs.c.name], set_=values))
            return RigRecord(**conn.execute(sa.select(rigs).where(rigs.c.name == name))
                             .one()._asdict())

    def note_board(self, name: str, board_id: str) -> str | None:
        """The board behind rig `name` is board_id; returns the rig it was known as before
        when that is another (the board moved: the other rig no longer has it)."""
        with self._write() as conn:
            self._claiming(conn)
            before = conn.execute(sa.select(rigs.c.name).where(
                rigs.c.board_id == board_id, rigs.c.name != name)).scalar_one_or_none()
            if before is not None:
                conn.execute(rigs.update().where(rigs.c.name == before).values(board_id=None))
            conn.execute(rigs.update().where(rigs.c.name == name).values(board_id=board_id))
        return before

    def rig_named_by_board(self, board_id: str) -> str | None:
        with self._read() as conn:
            return conn.execute(sa.select(rigs.c.name).where(rigs.c.board_id == board_id)
                                ).scalar_one_or_none()

    def lab_rigs(self) -> list[tuple[RigRecord, SiteRecord | None]]:
        """Every rig of the lab with the site serving it (None: no site yet)."""
        by_name = {site.name: site for site in self.list_sites()}
        with self._read() as conn:
            rows = conn.execute(sa.select(rigs).order_by(rigs.c.name)).all()
        return [(RigRecord(**row._asdict()), by_name.get(row.site)) for row in rows]

    def _claiming(self, conn: sa.Connection) -> datetime:
        """Take turns with other services claiming names; the database's time now."""
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_CLAIM_LOCK})
        return db_now(conn)


def process_alive(pid: int) -> bool:
    """Whether a process of this computer runs (a process of another user counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def db_now(conn: sa.Connection) -> datetime:
    return conn.execute(sa.select(sa.func.now(type_=UtcDateTime()))).scalar_one()


def _age_s(row: Any, now: datetime) -> float | None:
    return None if row.heartbeat_at is None else (now - row.heartbeat_at).total_seconds()


def _online(row: Any, now: datetime) -> bool:
    age_s = _age_s(row, now)
    return age_s is not None and age_s < OFFLINE_AFTER_S
