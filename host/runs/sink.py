"""Where a run's samples go once they are in seq order: the store, then the live stream.

Records arrive as the device's integers; they are converted with the run's calibration,
refused whole if a value must not be stored (an infinity), inserted (a database that went
away is tried again), then published with the run's progress.
"""

import asyncio
import logging
import time

import numpy as np
import sqlalchemy as sa

from host.rigs import Rig
from host.runs.book import RunBook
from host.runs.errors import SampleNotStorable
from host.runs.tracker import Tracker
from host.store.columns import json_rows

log = logging.getLogger(__name__)

LIVE_COLUMNS = ("seq", "t_s", "voltage_v", "current_a", "luminance_cd_m2", "pl",
                "temperature_c", "humidity_pct", "shutter_open", "setpoint_v", "flags")
PROGRESS_WRITE_S = 1.0
STORE_TRIES = 3
STORE_RETRY_S = 0.5


class SampleSink:
    """Stores and publishes the samples of followed runs."""

    def __init__(self, book: RunBook):
        self.book = book

    async def store(self, rig: Rig, tracker: Tracker, records: np.ndarray) -> None:
        """Store records of tracker's run, then publish them and the progress live.

        Raises SampleNotStorable for a value the store must not hold (an infinity), after
        STORE_TRIES for a database error that does not go away.
        """
        book = self.book
        cols = tracker.converter.columns(records)
        for name, column in cols.items():
            if column.dtype.kind == "f" and np.isinf(column).any():
                seq = int(cols["seq"][np.isinf(column).argmax()])
                raise SampleNotStorable("%s of sample %d is infinite (check the rig's "
                                        "calibration)" % (name, seq))
        async with tracker.storing:
            await self._insert(tracker, cols)
            self._publish(rig, tracker, cols)
        now = time.monotonic()
        if now - tracker.progress_written_at > PROGRESS_WRITE_S and not tracker.run.finished:
            tracker.progress_written_at = now
            await asyncio.to_thread(book.store.update_run, tracker.run.id,
                                    progress=tracker.progress)

    async def settled(self, tracker: Tracker) -> None:
        """Return once every store of tracker's samples begun before this call has ended:
        the samples SeqOrder released are in the store, and last_t_s counts them."""
        async with tracker.storing:
            pass

    async def _insert(self, tracker: Tracker, cols: dict[str, np.ndarray]) -> None:
        book = self.book
        for attempt in range(1, STORE_TRIES + 1):
            try:
                await asyncio.to_thread(book.store.insert_samples, tracker.run.id, cols)
                break
            except sa.exc.OperationalError as exc:  # the database went away: try again
                log.warning("run %d: storing %d samples failed (try %d of %d): %s",
                            tracker.run.id, len(cols["seq"]), attempt, STORE_TRIES, exc)
                if attempt == STORE_TRIES:
                    raise SampleNotStorable("the database refused the samples: %s"
                                            % str(exc).splitlines()[0]) from exc
                await asyncio.sleep(STORE_RETRY_S * attempt)

    def _publish(self, rig: Rig, tracker: Tracker, cols: dict[str, np.ndarray]) -> None:
        book = self.book
        rig.ingest_error = None
        live = tracker.note_samples(cols)
        rows = json_rows(cols, LIVE_COLUMNS)
        if rows:
            rig.last_sample = dict(zip(LIVE_COLUMNS, rows[-1]))
            rig.last_samples[tracker.channel] = rig.last_sample
        book.hub.publish(tracker.run.id, "samples", {"columns": list(LIVE_COLUMNS),
                                                     "rows": rows, "sent_at": time.time()})
        book.hub.publish(tracker.run.id, "progress", live)
