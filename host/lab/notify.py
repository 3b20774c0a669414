"""Wake-ups from PostgreSQL LISTEN on the lab's channels.

A waiter arms a channel (takes its current event), reads what it waits for from the
database, and only then waits: a notification that came in between has already set the
event. Where no notification can come (SQLite; the listening connection lost until it is
back) a wait runs out after POLL_S, the fallback poll.
"""

import asyncio
import logging

import psycopg
import sqlalchemy as sa
from psycopg import sql

from host.lab.tasks import cancel
from host.store.commands import ANSWERS_CHANNEL, COMMANDS_CHANNEL, RUNS_CHANNEL

log = logging.getLogger(__name__)

POLL_S = 1.0  # the slowest a waiter learns of a change without a notification
CHANNELS = (COMMANDS_CHANNEL, ANSWERS_CHANNEL, RUNS_CHANNEL)


class Wakeups:
    """One listening connection per service; start() on PostgreSQL only matters."""

    def __init__(self, db_url: str):
        url = sa.make_url(db_url)
        self._conninfo = (url.set(drivername="postgresql").render_as_string(hide_password=False)
                          if url.get_backend_name() == "postgresql" else None)
        self._events = {channel: asyncio.Event() for channel in CHANNELS}
        self._task: asyncio.Task | None = None
        self.listening = False  # the LISTEN connection is up

    def start(self) -> None:
        if self._conninfo is not None:
            self._task = asyncio.create_task(self._listen(), name="lab-listen")

    async def stop(self) -> None:
        await cancel(self._task)

    def arm(self, channel: str) -> asyncio.Event:
        """The event the channel's next notification sets."""
        return self._events[channel]

    async def wait(self, armed: asyncio.Event, timeout_s: float = POLL_S) -> None:
        """Until the armed event is set or timeout_s has passed."""
        try:
            await asyncio.wait_for(armed.wait(), timeout_s)
        except TimeoutError:
            pass

    def _wake(self, channel: str) -> None:
        event = self._events.get(channel)
        if event is not None:
            self._events[channel] = asyncio.Event()  # the next waiters arm the new one
            event.set()

    async def _listen(self) -> None:
        assert self._conninfo is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True) as conn:
                    for channel in CHANNELS:
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening = True
                    for channel in CHANNELS:  # what was sent while not listening
                        self._wake(channel)
                    async for notification in conn.notifies():
                        self._wake(notification.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may come back
                if self.listening:
                    log.warning("lab notifications lost (%s); polling every %.0f s until "
                                "they are back", exc, POLL_S)
            self.listening = False
            await asyncio.sleep(POLL_S)
