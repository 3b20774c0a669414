"""The Store: every rig, run, sample, event and calibration the host keeps, in one database.

Synchronous and safe to call from worker threads (the API calls it through a threadpool).
SQLite serialises its writers in-process with a lock, so a writer never meets SQLITE_BUSY
from another thread; readers run beside the writer (WAL).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Self

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from host.store import export, ingest, readback
from host.store.columns import SampleBatch
from host.store.commands import RUNS_CHANNEL, CommandRecords
from host.store.engine import is_memory_sqlite, make_engine
from host.store.errors import (
    CalibrationNotFound,
    InvalidRunUpdate,
    RigBusy,
    RigNotFound,
    RunNotFound,
    SequenceNotFound,
)
from host.store.records import (
    FINISHED_STATES,
    RUN_KINDS,
    RUN_STATES,
    SEQUENCE_FINISHED,
    SEQUENCE_STATES,
    UNFINISHED_STATES,
    Calibration,
    Event,
    RigRecord,
    Run,
)
from host.store.records import (
    Sequence as SequenceRecord,
)
from host.store.sites import LabRecords
from host.store.tables import calibrations, events, rigs, runs, samples, sequences, utc_now
from host.store.upgrade import ensure_schema


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave as it is", where None means "clear"


class Store(LabRecords, CommandRecords):
    """Open (and create or upgrade) the database at url; close() when done.

    url: `sqlite:///PATH` (folder created; a service's is DATA_DIR/lumenrig.sqlite, see
    host.settings), `sqlite://` (in memory, for tests), or
    `postgresql+psycopg://user@host:port/db`.
    """

    def __init__(self, url: str | sa.URL) -> None:
        self._engine = make_engine(url)
        self.dialect: str = self._engine.dialect.name
        self.url: str = self._engine.url.render_as_string(hide_password=True)
        memory = is_memory_sqlite(self._engine.url)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        # One shared connection in memory: reads queue behind writes too.
        self._read_lock = self._write_lock if memory else None
        with self._write() as conn:
            _found, self.schema_version = ensure_schema(conn)
        if self.dialect == "sqlite":
            # ensure_schema turned foreign keys off on its connection: on again.
            if memory:  # (the one connection there is)
                with self._write() as conn:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            else:
                self._engine.dispose()
        self._sample_listeners: list[Callable[[int, Mapping[str, np.ndarray]], None]] = []

    def close(self) -> None:
        """Release every pooled connection; the Store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._write_lock or nullcontext(), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._read_lock or nullcontext(), self._engine.connect() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert(table) if self.dialect == "postgresql"
                else sqlite.insert(table))

    # Rigs

    def upsert_rig(self, name: str, spec: str,
                   firmware: Mapping[str, Any] | None = None) -> RigRecord:
        """Register a rig or mark it seen now; firmware=None keeps what was stored before."""
        now = utc_now()
        values: dict[str, Any] = {"name": name, "spec": spec, "first_seen": now,
                                  "last_seen": now}
        update: dict[str, Any] = {"spec": spec, "last_seen": now}
        if firmware is not None:
            values["firmware"] = update["firmware"] = dict(firmware)
        statement = self._insert(rigs).values(**values).on_conflict_do_update(
            index_elements=[rigs.c.name], set_=update)
        with self._write() as conn:
            conn.execute(statement)
            return _rig(conn.execute(sa.select(rigs).where(rigs.c.name == name)).one())

    def get_rig(self, name: str) -> RigRecord:
        with self._read() as conn:
            row = conn.execute(sa.select(rigs).where(rigs.c.name == name)).one_or_none()
        if row is None:
            raise RigNotFound(name)
        return _rig(row)

    def list_rigs(self) -> list[RigRecord]:
        with self._read() as conn:
            return [_rig(r) for r in conn.execute(sa.select(rigs).order_by(rigs.c.name))]

    # Runs

    def create_run(self, rig: str, kind: str, params: Mapping[str, Any], *,
                   calibration: Mapping[str, Any] | None = None, run_key: int | None = None,
                   board_id: str | None = None, imported: bool = False,
                   state: str = "queued", exclusive: bool = False,
                   labels: Mapping[str, Any] | None = None, sequence_id: int | None = None,
                   step_index: int | None = None, checkup_of: int | None = None,
                   channel: int = 0) -> Run:
        """A new run (queued unless state says otherwise). calibration defaults to the rig's
        current one (None if never set): the run keeps the calibration it was measured with,
        whatever changes later, and the id of the version it came from. run_key: its wire
        identity, unique in the store. labels: device, operator, notes, tags
        (host.runs.labels.RunLabels.stored()). sequence_id, step_index, checkup_of: its
        place in a test sequence (host.sequences). channel: the rig's channel (pixel) it runs
        on.

        exclusive: RigBusy if the rig's channel has an unfinished run, checked with the
        rig's row locked (PostgreSQL), so that of services sharing the database and racing
        to start on one rig's channel, one wins."""
        if kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {kind!r}; expected one of {RUN_KINDS}")
        if state not in ("queued", "running"):
            raise ValueError(f"a new run is queued or running, not {state!r}")
        label_values = _label_values(labels or {})
        with self._write() as conn:
            _require_rig(conn, rig, lock=exclusive)
            if exclusive:
                busy = conn.execute(sa.select(runs.c.id, runs.c.state).where(
                    runs.c.rig == rig, runs.c.channel == channel,
                    runs.c.state.in_(UNFINISHED_STATES)).order_by(runs.c.id).limit(1)).first()
                if busy is not None:
                    raise RigBusy(rig, busy.id, busy.state, channel)
            latest = _latest_calibration_row(conn, rig)
            if calibration is None and latest is not None:
                calibration = latest.calibration
            run_id = conn.execute(runs.insert().values(
                rig=rig, kind=kind, state=state, params=dict(params), progress=0.0,
                created_at=utc_now(), run_key=run_key, board_id=board_id, imported=imported,
                started_at=utc_now() if state == "running" else None,
                calibration=None if calibration is None else dict(calibration),
                calibration_id=None if latest is None else latest.id, **label_values,
                sequence_id=sequence_id, step_index=step_index, checkup_of=checkup_of,
                channel=channel,
            ).returning(runs.c.id)).scalar_one()
            return _run(_run_row(conn, run_id))

    def edit_run(self, run_id: int, changes: Mapping[str, Any], by: str) -> Run:
        """Change a run's notes, tags or device names (`device.NAME`, None clears it) and
        record each change as an `edited` event (by, field, old, new) in one transaction.
        Only labels change: what was measured cannot be edited."""
        with self._write() as conn:
            row = _run_row(conn, run_id, for_update=True)
            device = dict(row.device or {})
            values: dict[str, Any] = {}
            for field, new in changes.items():
                if field.startswith("device."):
                    name = field.removeprefix("device.")
                    old = device.get(name)
                    if new is None:
                        device.pop(name, None)
                    else:
                        device[name] = new
                    values["device"] = device or None
                elif field in ("notes", "tags"):
                    old = row._mapping[field]
                    values[field] = new
                else:
                    raise InvalidRunUpdate(f"{field} cannot be edited")
                if old == new:
                    continue
                conn.execute(events.insert().values(
                    run_id=run_id, rig=row.rig, t=utc_now(), code=None, name="edited",
                    message=f"{field} changed by {by}",
                    data={"by": by, "field": field, "old": old, "new": new}))
            if values:
                merged = {"device": row.device, "operator": row.operator, "notes": row.notes,
                          "tags": row.tags, **values}
                values["search"] = _search_text(merged)
                conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
            return _run(_run_row(conn, run_id))

    def set_archived(self, run_id: int, archived: bool, by: str) -> Run:
        """Hide a run from lists by default (archived) or show it again; an event says who.
        Nothing is deleted."""
        with self._write() as conn:
            row = _run_row(conn, run_id, for_update=True)
            if row.archived != archived:
                conn.execute(runs.update().where(runs.c.id == run_id)
                             .values(archived=archived))
                name = "archived" if archived else "unarchived"
                conn.execute(events.insert().values(
                    run_id=run_id, rig=row.rig, t=utc_now(), code=None, name=name,
                    message=f"{name} by {by}", data={"by": by}))
            return _run(_run_row(conn, run_id))

    def update_run(self, run_id: int, *, state: str = UNSET, progress: float = UNSET,
                   summary: Mapping[str, Any] | None = UNSET, error: str | None = UNSET,
                   board_id: str | None = UNSET, started_at: datetime | None = UNSET,
                   finished_at: datetime | None = UNSET) -> Run:
        """Change the given fields only; returns the run as stored.

        Entering `running` stamps started_at, entering a finished state stamps finished_at
        (unless given). A finished run keeps its state: changing it raises InvalidRunUpdate
        (setting the same state again is allowed), as do an unknown state and a progress
        outside 0..1.
        """
        given = {"state": state, "progress": progress, "summary": summary, "error": error,
                 "board_id": board_id, "started_at": started_at,
                 "finished_at": finished_at}
        values = {k: v for k, v in given.items() if v is not UNSET}
        if progress is not UNSET and not 0.0 <= float(progress) <= 1.0:
            raise InvalidRunUpdate(f"progress must be within 0..1, not {progress!r}")
        if "state" in values and state not in RUN_STATES:
            raise InvalidRunUpdate(f"unknown run state {state!r}; expected one of {RUN_STATES}")
        with self._write() as conn:
            current = _run(_run_row(conn, run_id, for_update=True))
            if "state" in values and state != current.state:
                if current.finished:
                    raise InvalidRunUpdate(
                        f"run {run_id} is already {current.state}; it cannot become {state}")
                if state == "running" and current.started_at is None:
                    values.setdefault("started_at", utc_now())
                if state in FINISHED_STATES:
                    values.setdefault("finished_at", utc_now())
            if values:
                conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
                self._notify(conn, RUNS_CHANNEL, str(run_id))
            return _run(_run_row(conn, run_id))

    def get_run(self, run_id: int) -> Run:
        with self._read() as conn:
            return _run(_run_row(conn, run_id))

    def get_run_by_key(self, run_key: int) -> Run | None:
        """The run with this wire key, or None when this store never started it."""
        with self._read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_key == run_key)).one_or_none()
        return None if row is None else _run(row)

    def list_runs(self, *, rig: str | None = None, state: str | Iterable[str] | None = None,
                  kind: str | None = None, limit: int | None = 100,
                  calibration: bool = True, q: str | None = None,
                  tags: Sequence[str] = (), since: datetime | None = None,
                  until: datetime | None = None, archived: bool | None = None,
                  before_id: int | None = None) -> list[Run]:
        """Newest first (by id); state may be one state or several. calibration=False
        leaves each run's calibration unread (None), for lists that do not show it.

        q: text in the run's labels (case-insensitive); tags: every one of them;
        since/until: created at or after / before; archived: None for both;
        before_id: runs older than that id (the next page of a list)."""
        columns = [c if calibration or c.name != "calibration" else sa.null().label(c.name)
                   for c in runs.c if c.name != "search"]
        query = sa.select(*columns).order_by(runs.c.id.desc())
        if rig is not None:
            query = query.where(runs.c.rig == rig)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            query = query.where(runs.c.state.in_(states))
        if kind is not None:
            query = query.where(runs.c.kind == kind)
        if q:
            pattern = "%" + _like_escaped(q.lower()) + "%"
            query = query.where(runs.c.search.like(pattern, escape="\\"))
        for i, tag in enumerate(tags):
            query = query.where(_has_tag(self.dialect, tag, i))
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        if until is not None:
            query = query.where(runs.c.created_at < until)
        if archived is not None:
            query = query.where(runs.c.archived == archived)
        if before_id is not None:
            query = query.where(runs.c.id < before_id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def unfinished_runs(self) -> list[Run]:
        """Queued, running or interrupted runs, oldest first: what a restarted host must
        reattach."""
        query = sa.select(runs).where(runs.c.state.in_(UNFINISHED_STATES)).order_by(runs.c.id)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query)]

    # Sequences

    def create_sequence(self, rig: str, channel: int, spec: Mapping[str, Any]) -> SequenceRecord:
        """A new queued test sequence on the rig's channel; spec: the validated request."""
        with self._write() as conn:
            _require_rig(conn, rig)
            sequence_id = conn.execute(sequences.insert().values(
                rig=rig, channel=channel, state="queued", spec=dict(spec), step_index=0,
                cursor={}, created_at=utc_now()).returning(sequences.c.id)).scalar_one()
            return _sequence(_sequence_row(conn, sequence_id))

    def get_sequence(self, sequence_id: int) -> SequenceRecord:
        with self._read() as conn:
            return _sequence(_sequence_row(conn, sequence_id))

    def list_sequences(self, *, rig: str | None = None, state: str | None = None,
                       limit: int = 100) -> list[SequenceRecord]:
        """Newest first."""
        query = sa.select(sequences).order_by(sequences.c.id.desc()).limit(limit)
        if rig is not None:
            query = query.where(sequences.c.rig == rig)
        if state is not None:
            query = query.where(sequences.c.state == state)
        with self._read() as conn:
            return [_sequence(r) for r in conn.execute(query)]

    def unfinished_sequences(self) -> list[SequenceRecord]:
        """Queued or running sequences, oldest first: what a restarted service goes on with."""
        query = (sa.select(sequences).where(sequences.c.state.in_(("queued", "running")))
                 .order_by(sequences.c.id))
        with self._read() as conn:
            return [_sequence(r) for r in conn.execute(query)]

    def update_sequence(self, sequence_id: int, *, state: str = UNSET, step_index: int = UNSET,
                        cursor: Mapping[str, Any] = UNSET, error: str | None = UNSET
                        ) -> SequenceRecord:
        """Change the given fields; entering `running` stamps started_at, a finished state
        finished_at. A finished sequence keeps its state (InvalidRunUpdate)."""
        values: dict[str, Any] = {k: v for k, v in (
            ("state", state), ("step_index", step_index), ("error", error)) if v is not UNSET}
        if cursor is not UNSET:
            values["cursor"] = dict(cursor)
        if "state" in values and state not in SEQUENCE_STATES:
            raise InvalidRunUpdate(f"unknown sequence state {state!r}")
        with self._write() as conn:
            current = _sequence(_sequence_row(conn, sequence_id, for_update=True))
            if "state" in values and state != current.state:
                if current.finished:
                    raise InvalidRunUpdate(f"sequence {sequence_id} is already "
                                           f"{current.state}; it cannot become {state}")
                if state == "running" and current.started_at is None:
                    values["started_at"] = utc_now()
                if state in SEQUENCE_FINISHED:
                    values["finished_at"] = utc_now()
            if values:
                conn.execute(sequences.update().where(sequences.c.id == sequence_id)
                             .values(**values))
            return _sequence(_sequence_row(conn, sequence_id))

    def sequence_runs(self, sequence_id: int) -> list[Run]:
        """The runs of a sequence in the order they were made, without their calibrations."""
        columns = [c if c.name != "calibration" else sa.null().label(c.name)
                   for c in runs.c if c.name != "search"]
        query = sa.select(*columns).where(runs.c.sequence_id == sequence_id).order_by(runs.c.id)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query)]

    # Samples

    def insert_samples(self, run_id: int, samples: Any, *,
                       batch_rows: int = ingest.DEFAULT_BATCH_ROWS) -> int:
        """Store samples of run_id once each; returns how many (run_id, seq) were new.

        samples: a mapping of column name -> array-like, or a numpy structured array, in
        physical units (columns.SAMPLE_COLUMNS; nullable ones may be left out; NaN = NULL).
        A seq already stored is skipped, never overwritten, so a resend or a resume is
        harmless. One transaction: all rows or none. Raises ValueError for bad columns,
        RunNotFound for an unknown run.
        """
        batch = SampleBatch.from_input(samples)
        with self._write() as conn:
            _require_run(conn, run_id)
            added = ingest.insert(conn, run_id, batch, batch_rows)
            self._notify(conn, RUNS_CHANNEL, str(run_id))  # another site may stream it
        for listener in self._sample_listeners:
            listener(run_id, batch.columns)
        return added

    def on_samples_stored(self, listener: Callable[[int, Mapping[str, np.ndarray]], None]
                          ) -> None:
        """Call listener(run_id, columns) after each insert_samples has committed, in the
        inserting thread. columns are the call's checked columns (SampleBatch), rows that
        were already stored included: the stored value of such a seq is the earlier one."""
        self._sample_listeners.append(listener)

    def sample_count(self, run_id: int) -> int:
        with self._read() as conn:
            _require_run(conn, run_id)
            return int(conn.execute(sa.select(sa.func.count()).select_from(samples)
                                    .where(samples.c.run_id == run_id)).scalar_one())

    def max_seq(self, run_id: int) -> int | None:
        """Highest stored seq, None before the first sample."""
        with self._read() as conn:
            _require_run(conn, run_id)
            top = conn.execute(sa.select(sa.func.max(samples.c.seq))
                               .where(samples.c.run_id == run_id)).scalar_one()
        return None if top is None else int(top)

    def read_samples(self, run_id: int, start_s: float | None = None,
                     end_s: float | None = None,
                     columns: Sequence[str] | None = None, *,
                     seqs: Sequence[int] | None = None) -> dict[str, np.ndarray]:
        """Samples with start_s <= t_s <= end_s as numpy columns ordered by seq.

        columns: a subset to read (seq is always included; fewer columns read faster).
        seqs: only these seq (e.g. the rows a plot picked), looked up by key.
        int64 for seq, pd_range, flags; float64 otherwise, NaN where NULL; shutter_open is
        1.0 / 0.0 / NaN. `columns.json_rows` turns the result into JSON rows.
        """
        names = readback.check_names(columns)
        with self._read() as conn:
            _require_run(conn, run_id)
            return readback.read_columns(conn, run_id, names, start_s, end_s, seqs)

    def iter_samples_csv(self, run_id: int, chunk_rows: int = 10_000) -> Iterator[str]:
        """CSV text in chunks (header first) in columns.CSV_COLUMNS order.

        Raises RunNotFound here, before the first chunk; reading happens as it is iterated.
        """
        self.get_run(run_id)
        return export.iter_csv(self._read, run_id, chunk_rows)

    def iter_export_csv(self, run_id: int, chunk_rows: int = 10_000) -> Iterator[str]:
        """iter_samples_csv with export.EXPORT_COLUMNS (the run's pixel area for J)."""
        run = self.get_run(run_id)
        area = (run.calibration or {}).get("pixel_area_mm2")
        return export.iter_export_csv(self._read, run_id, chunk_rows,
                                      None if area is None else float(area))

    # Events

    def add_event(self, name: str, message: str = "", *, rig: str | None = None,
                  run_id: int | None = None, code: int | None = None,
                  data: Mapping[str, Any] | None = None, t: datetime | None = None,
                  key: str | None = None) -> Event | None:
        """Record an event; returns None when an event with the same key exists already.

        key: the caller's identity of the event (e.g. the device's boot and event_seq) so
        a re-sent device event is kept once. t: wall time, default now.
        """
        values = {"name": name, "message": message, "rig": rig, "run_id": run_id,
                  "code": code, "data": None if data is None else dict(data),
                  "t": t or utc_now(), "key": key}
        statement = self._insert(events).values(**values)
        if key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[events.c.key])
        with self._write() as conn:
            if run_id is not None:
                _require_run(conn, run_id)
            event_id = conn.execute(statement.returning(events.c.id)).scalar_one_or_none()
            if event_id is None:
                return None
            if run_id is not None:
                self._notify(conn, RUNS_CHANNEL, str(run_id))
            return _event(conn.execute(sa.select(events).where(events.c.id == event_id)).one())

    def list_events(self, *, run_id: int | None = None, rig: str | None = None,
                    after_id: int | None = None, limit: int | None = None) -> list[Event]:
        """Oldest first; filters combine. after_id lets a live view fetch only new ones."""
        query = sa.select(events).order_by(events.c.id)
        if run_id is not None:
            query = query.where(events.c.run_id == run_id)
        if rig is not None:
            query = query.where(events.c.rig == rig)
        if after_id is not None:
            query = query.where(events.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_event(r) for r in conn.execute(query)]

    # Calibrations

    def set_calibration(self, rig: str, calibration: Mapping[str, Any]) -> Calibration:
        """Make calibration the rig's current one; earlier ones stay in the history."""
        with self._write() as conn:
            _require_rig(conn, rig)
            cal_id = conn.execute(calibrations.insert().values(
                rig=rig, calibration=dict(calibration), set_at=utc_now(),
            ).returning(calibrations.c.id)).scalar_one()
            return _calibration(conn.execute(
                sa.select(calibrations).where(calibrations.c.id == cal_id)).one())

    def get_calibration(self, rig: str) -> dict[str, Any] | None:
        """The rig's current calibration, None if it never had one."""
        with self._read() as conn:
            _require_rig(conn, rig)
            row = _latest_calibration_row(conn, rig)
            return None if row is None else row.calibration

    def get_calibration_version(self, calibration_id: int) -> Calibration:
        """One stored calibration version by id (CalibrationNotFound when there is none)."""
        with self._read() as conn:
            row = conn.execute(sa.select(calibrations)
                               .where(calibrations.c.id == calibration_id)).one_or_none()
        if row is None:
            raise CalibrationNotFound(calibration_id)
        return _calibration(row)


def _require_rig(conn: sa.Connection, rig: str, lock: bool = False) -> None:
    """RigNotFound unless the rig is registered; lock: first write its row (to itself), which
    holds it until the transaction ends: a row lock on PostgreSQL, the one write lock on
    SQLite (taken before anything is read, so a racing writer waits instead of failing)."""
    if lock:
        found = conn.execute(rigs.update().where(rigs.c.name == rig)
                             .values(name=rigs.c.name)).rowcount
    else:
        found = conn.execute(sa.select(rigs.c.name).where(rigs.c.name == rig)).first()
    if not found:
        raise RigNotFound(rig)


def _require_run(conn: sa.Connection, run_id: int) -> None:
    """RunNotFound unless run_id exists; reads the key only (the row's JSON columns cost a
    decode each, and every stored batch asks)."""
    if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
        raise RunNotFound(run_id)


def _run_row(conn: sa.Connection, run_id: int, for_update: bool = False) -> sa.Row[Any]:
    query = sa.select(runs).where(runs.c.id == run_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise RunNotFound(run_id)
    return row


def _sequence_row(conn: sa.Connection, sequence_id: int,
                  for_update: bool = False) -> sa.Row[Any]:
    query = sa.select(sequences).where(sequences.c.id == sequence_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise SequenceNotFound(sequence_id)
    return row


def _latest_calibration_row(conn: sa.Connection, rig: str) -> Any:
    """(id, calibration) of the rig's current calibration, None if it never had one."""
    return conn.execute(sa.select(calibrations.c.id, calibrations.c.calibration)
                        .where(calibrations.c.rig == rig)
                        .order_by(calibrations.c.id.desc()).limit(1)).one_or_none()


_LABEL_COLUMNS = ("device", "operator", "notes", "tags")


def _label_values(labels: Mapping[str, Any]) -> dict[str, Any]:
    """The run columns of a run's labels, with their search text."""
    unknown = set(labels) - set(_LABEL_COLUMNS)
    if unknown:
        raise ValueError(f"unknown run labels {sorted(unknown)}; expected {_LABEL_COLUMNS}")
    values = {"device": labels.get("device") or None, "operator": labels.get("operator"),
              "notes": labels.get("notes") or "", "tags": list(labels.get("tags") or ())}
    values["search"] = _search_text(values)
    return values


def _search_text(values: Mapping[str, Any]) -> str:
    """Lowercased text of a run's labels, one per line, that `q` is looked for in."""
    parts = [str(v) for v in (values.get("device") or {}).values()]
    parts += [values.get("operator") or "", values.get("notes") or ""]
    parts += list(values.get("tags") or ())
    return "\n".join(p for p in parts if p).lower()


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_tag(dialect: str, tag: str, index: int) -> sa.TextClause:
    """Runs whose tags list holds tag (JSON containment on PostgreSQL, json_each on SQLite)."""
    name = f"tag_{index}"
    if dialect == "postgresql":
        return sa.text(f"runs.tags @> CAST(:{name} AS JSONB)").bindparams(
            **{name: json.dumps([tag])})
    return sa.text(f"EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = :{name})"
                   ).bindparams(**{name: tag})


def _rig(row: sa.Row[Any]) -> RigRecord:
    return RigRecord(**row._asdict())


def _run(row: sa.Row[Any]) -> Run:
    values = row._asdict()
    values.pop("search", None)
    values["progress"] = float(values["progress"])
    values["tags"] = list(values["tags"] or ())
    values["archived"] = bool(values["archived"])
    return Run(**values)


def _sequence(row: sa.Row[Any]) -> SequenceRecord:
    return SequenceRecord(**row._asdict())


def _event(row: sa.Row[Any]) -> Event:
    return Event(**row._asdict())


def _calibration(row: sa.Row[Any]) -> Calibration:
    return Calibration(**row._asdict())


__all__ = ["UNSET", "Store"]
