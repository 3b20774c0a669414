"""An idle rig is asked for its STATUS every few seconds, so its card shows the bench's
temperature and humidity (and the device's state) now, before a run starts, rather than
what the last run's final sample said. A rig with a run is left alone: its samples carry
the same readings."""

import asyncio
import logging

from host.link import LinkError
from host.rigs import Rig
from host.runs.book import RunBook
from protocol import schema

log = logging.getLogger(__name__)

IDLE_STATUS_S = 5.0  # how often an idle rig is asked
STATUS_TIMEOUT_S = 2.0  # one try; the next pass asks again


async def ask_idle_rigs(book: RunBook) -> None:
    """Forever: every IDLE_STATUS_S, a GET_STATUS to each connected rig without a run."""
    while True:
        await asyncio.sleep(IDLE_STATUS_S)
        idle = [rig for rig in book.rigs.values() if _is_idle(rig)]
        await asyncio.gather(*(_ask(rig) for rig in idle))


def _is_idle(rig: Rig) -> bool:
    return rig.link is not None and rig.link.connected and rig.active_run_id is None


async def _ask(rig: Rig) -> None:
    assert rig.link is not None
    try:
        await rig.link.acommand(schema.GET_STATUS, timeout_s=STATUS_TIMEOUT_S, tries=1)
    except LinkError as exc:  # out of reach: the link watch and the rig's card say so
        log.debug("%s: idle status not answered: %s", rig.name, exc)
