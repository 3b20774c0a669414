"""This service's place in a lab of services sharing one database: its site row (taken at
start, a heartbeat every HEARTBEAT_S with the state of each rig it serves, let go at stop),
its rigs' names claimed against every other site, and the board behind each rig recorded.

On SQLite (one computer) the same rows are kept: the lab is this one site.
"""

import asyncio
import logging
import os
import socket
from collections.abc import Iterable
from typing import Any

from host.lab.tasks import cancel
from host.rigs import RECOVERY_COUNTS, Rig
from host.settings import RigSpec, Settings
from host.store import ClaimRefused, RigNotFound, Store
from host.store.sites import OFFLINE_AFTER_S

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0  # a site shows offline only after it missed two in a row
assert 2 * HEARTBEAT_S < OFFLINE_AFTER_S


def claim(store: Store, site: str, instance: str, api_url: str | None,
          rigs: Iterable[RigSpec]) -> None:
    """Take the site for the service `instance` and claim each rig's name in the lab (the
    CLI does it before serving, so a refusal is one line; the service again as it opens).

    Raises ClaimRefused saying which service holds what."""
    store.register_site(site, instance, api_url, socket.gethostname(), os.getpid())
    for rig in rigs:
        store.claim_rig(rig.name, rig.spec, site)


class Site:
    """One service's site: register() before its rigs open, start() once they are, stop()."""

    def __init__(self, store: Store, settings: Settings, rigs: dict[str, Rig]):
        self.store = store
        self.name = settings.site
        self.api_url = settings.api_url
        self.instance = settings.instance  # this running service, in the site's row
        self.rigs = rigs
        self.taken_over = False  # another service took the site while this one was away
        self._task: asyncio.Task | None = None

    def register(self) -> None:
        claim(self.store, self.name, self.instance, self.api_url,
              (rig.spec for rig in self.rigs.values()))

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="site-heartbeat")

    async def stop(self) -> None:
        await cancel(self._task)
        try:
            await asyncio.to_thread(self.store.stop_site, self.name, self.instance)
        except Exception as exc:  # noqa: BLE001 - the site goes offline by silence then
            log.warning("site %s: could not mark the site stopped: %s", self.name, exc)

    async def beat(self) -> None:
        """One heartbeat with every rig's state (GET /api/rigs/{rig} as this site sees it)."""
        status = {name: rig.describe() for name, rig in self.rigs.items()}
        ours = await asyncio.to_thread(self.store.beat_site, self.name, self.instance, status)
        if not ours and not self.taken_over:
            log.error("site %s was taken over by another service while this one could not "
                      "reach the database: stop one of them", self.name)
        self.taken_over = not ours

    async def _beat(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception as exc:  # noqa: BLE001 - the database may come back
                log.warning("site %s: heartbeat failed: %s", self.name, exc)
            await asyncio.sleep(HEARTBEAT_S)


async def note_board(store: Store, rig: Rig, board_id: str | None) -> dict[str, Any] | None:
    """Record the board behind rig after its handshake; when the lab knew that board as
    another rig, an event's fields saying so (the board moved, or was renamed)."""
    if board_id is None:
        return None
    before = await asyncio.to_thread(store.note_board, rig.name, board_id)
    if before is None:
        return None
    return {"name": "board_moved", "message": (
        "board %s was rig %s in the lab; it is rig %s now (serve it as %s=SPEC to keep its "
        "name)" % (board_id, before, rig.name, before)),
        "data": {"board_id": board_id, "was": before}}


def remote_rigs(store: Store, own: Settings | str, local: dict[str, Rig]) -> list[dict[str, Any]]:
    """The lab's rigs served by other sites, as GET /api/rigs/{rig} shows a rig, from the
    state their site last wrote: `site`, `online` (its site's), `remote` true; a rig whose
    site is offline is shown not connected, with the last state its site wrote."""
    site_name = own if isinstance(own, str) else own.site
    out = []
    for record, site in store.lab_rigs():
        if record.name in local or record.site in (None, site_name):
            continue
        online = site is not None and site.online
        status = dict(record.status or {})
        out.append({
            **status, "name": record.name, "spec": record.spec,
            "simulated": bool(status.get("simulated")),
            "connected": online and bool(status.get("connected")),
            "device": status.get("device") or {"connected": False},
            "link": status.get("link") or {},
            "recovery": status.get("recovery") or dict.fromkeys(RECOVERY_COUNTS, 0),
            "board_id": record.board_id, "active_run": status.get("active_run"),
            "orphan_run": status.get("orphan_run"), "ingest_error": status.get("ingest_error"),
            "last_sample": status.get("last_sample"), "site": record.site,
            "online": online, "remote": True})
    return out


def serving_site(store: Store, rig_name: str, own_site: str) -> str | None:
    """The other site of the lab that serves a rig of that name (None: this one or none)."""
    try:
        record = store.get_rig(rig_name)
    except RigNotFound:
        return None
    return None if record.site in (None, own_site) else record.site


def served_elsewhere(store: Store, rig_name: str, own_site: str) -> str | None:
    """Why a request for a rig this service does not serve goes elsewhere, when another site
    of the lab serves it (None: no such rig in the lab)."""
    site_name = serving_site(store, rig_name, own_site)
    if site_name is None:
        return None
    site = next((s for s in store.list_sites() if s.name == site_name), None)
    where = ("online at %s" % (site.api_url or "an unknown address")
             if site is not None and site.online else "offline")
    return "rig %s is served by site %s (%s): control it there" % (rig_name, site_name, where)


async def adopt_board_name(store: Store, rigs: dict[str, Rig], site: str, rig: Rig,
                           board_id: str | None) -> dict[str, Any] | None:
    """A rig given no name (`--rig SPEC`) takes the name the lab knows its board by, at its
    first connection, so a board keeps its name wherever it is plugged in. An event's fields
    saying what happened (None: nothing to do)."""
    if rig.spec.named or board_id is None:
        return None
    known = await asyncio.to_thread(store.rig_named_by_board, board_id)
    if known is None or known == rig.name:
        return None
    if known in rigs:  # this service serves that name on another port
        return {"name": "board_name_kept", "message": (
            "board %s is rig %s in the lab, a name this service gives another port; this "
            "rig stays %s" % (board_id, known, rig.name)),
            "data": {"board_id": board_id, "lab_name": known}}
    try:
        await asyncio.to_thread(store.claim_rig, known, rig.spec.spec, site)
    except ClaimRefused as exc:
        return {"name": "board_name_kept", "message": "%s; this rig stays %s" % (exc, rig.name),
                "data": {"board_id": board_id, "lab_name": known}}
    was = rig.name
    rigs[known] = rigs.pop(was)
    rig.name = known
    if rig.link is not None:
        rig.link.name = known
    return {"name": "board_named", "message": (
        "rig %s is %s from now on: the lab's name for board %s" % (was, known, board_id)),
        "data": {"board_id": board_id, "was": was}}
