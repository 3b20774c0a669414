"""Plot columns of runs kept in memory, so downsampling a long run does not read it all again.

GET /api/runs/{id}/samples?max_points=N picks rows with LTTB over t_s and one shape column.
Reading every row of a 10^6-sample run from the database takes seconds; SampleCache keeps
seq, t_s and the shape columns of recently plotted runs as numpy arrays, loaded from the
store once and then kept in step through the store's on_samples_stored hook (every insert,
resends into gaps included). Only the picked rows are then read, by key.

The cache is exact while every write of a run's samples goes through this process's Store:
true for the service, where a run is written only by the service that owns its rig.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from host.plotting.downsample import lttb_indices
from host.store.columns import COLUMN_BY_NAME, READ_DTYPES
from host.store.readback import check_names

MAX_BYTES = 256 << 20  # about eight 10^6-sample runs with three cached columns
MAX_PENDING_BATCHES = 4096  # stored batches waiting for a plotted run's next request


class _Entry:
    """One run's cached columns (None until loaded) and the batches stored since."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.cols: dict[str, np.ndarray] | None = None
        self.pending: list[dict[str, np.ndarray]] = []
        self.load_lock = threading.Lock()
        self.nbytes = 0


class SampleCache:
    """Per-run seq, t_s and chosen columns as store.read_samples gives them; thread-safe.

    Memory is bounded by max_bytes (least recently used runs go first). A run that keeps
    being stored but is not asked for is dropped after MAX_PENDING_BATCHES batches.
    """

    def __init__(self, store: Any, max_bytes: int = MAX_BYTES):
        self.store = store
        self.max_bytes = max_bytes
        self._mutex = threading.Lock()  # guards _entries and every entry's pending list
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self.loads = 0  # whole-run reads from the database
        store.on_samples_stored(self._stored)

    def columns(self, run_id: int, names: Sequence[str]) -> dict[str, np.ndarray]:
        """seq and `names` of every stored sample of run_id, ordered by seq: the arrays
        store.read_samples(run_id, columns=names) returns. Do not modify them.

        The first call for a run reads those columns from the database; later ones only
        merge what was stored since. RunNotFound and ValueError as read_samples raises them.
        """
        wanted = check_names(names)
        with self._mutex:
            entry = self._entries.get(run_id)
            if entry is None or not set(wanted) <= set(entry.names):
                have = entry.names if entry is not None else ()
                entry = _Entry(check_names(set(wanted) | set(have)))
                self._entries[run_id] = entry
            self._entries.move_to_end(run_id)
        with entry.load_lock:
            cols = entry.cols
            if cols is None:
                # Read after the entry is registered: a batch committed before this read is
                # in it, one committed after reaches entry.pending (merging twice is harmless).
                cols = self.store.read_samples(run_id, columns=entry.names)
                self.loads += 1
            with self._mutex:
                pending, entry.pending = entry.pending, []
            if pending:
                cols = _merge(cols, pending)
            entry.cols = cols
            entry.nbytes = sum(a.nbytes for a in cols.values())
        self._evict()
        return {name: cols[name] for name in wanted}

    def drop(self, run_id: int) -> None:
        with self._mutex:
            self._entries.pop(run_id, None)

    def _stored(self, run_id: int, columns: Mapping[str, np.ndarray]) -> None:
        with self._mutex:
            entry = self._entries.get(run_id)
            if entry is None:
                return
            if len(entry.pending) >= MAX_PENDING_BATCHES:
                del self._entries[run_id]
                return
            entry.pending.append({name: _as_read(name, columns[name]) for name in entry.names})

    def _evict(self) -> None:
        with self._mutex:
            total = sum(e.nbytes for e in self._entries.values())
            while total > self.max_bytes and self._entries:
                _, entry = self._entries.popitem(last=False)
                total -= entry.nbytes


def _as_read(name: str, values: np.ndarray) -> np.ndarray:
    """A checked (SampleBatch) column as read_samples returns it: bool -1/0/1 -> NaN/0/1."""
    kind = COLUMN_BY_NAME[name].kind
    if kind == "bool":
        return np.where(values < 0, np.nan, values).astype(np.float64)
    return np.array(values, dtype=READ_DTYPES[kind])


def _merge(cols: dict[str, np.ndarray], parts: list[dict[str, np.ndarray]]
           ) -> dict[str, np.ndarray]:
    """cols plus the stored batches, one row per seq in seq order; a seq already present
    keeps its first value, as the store's ON CONFLICT DO NOTHING does."""
    names = list(cols)
    new = {n: np.concatenate([p[n] for p in parts]) for n in names}
    seq = new["seq"]
    top = cols["seq"][-1] if len(cols["seq"]) else -1
    if len(seq) and seq[0] > top and bool((np.diff(seq) > 0).all()):
        return {n: np.concatenate([cols[n], new[n]]) for n in names}
    both = {n: np.concatenate([cols[n], new[n]]) for n in names}
    _, first = np.unique(both["seq"], return_index=True)
    return {n: both[n][first] for n in names}


def plot_rows(store: Any, cache: SampleCache, run_id: int, shape: str,
              start_s: float | None, end_s: float | None, max_points: int | None
              ) -> tuple[dict[str, np.ndarray], int]:
    """(every column of the rows to send, number of samples in the window): all rows with
    start_s <= t_s <= end_s, or when there are more than max_points, the LTTB picks over t_s
    and `shape` (voltage_v when shape has no finite value in the window), read by seq.
    """
    if max_points is not None:
        seqs, total = _picked_seqs(cache, run_id, shape, start_s, end_s, max_points)
        if seqs is not None:
            cols = store.read_samples(run_id, seqs=seqs)
            if len(cols["seq"]) == len(seqs):
                return cols, total
    cols = store.read_samples(run_id, start_s, end_s)
    return cols, len(cols["seq"])


def _picked_seqs(cache: SampleCache, run_id: int, shape: str, start_s: float | None,
                 end_s: float | None, max_points: int) -> tuple[np.ndarray | None, int]:
    """(seqs LTTB picks, samples in the window); seqs None when the window has max_points
    or fewer (every row goes out)."""
    for names in (("t_s", shape), ("t_s", shape, "voltage_v")):
        cols = cache.columns(run_id, names)
        if start_s is not None or end_s is not None:
            t_s = cols["t_s"]
            keep = np.ones(len(t_s), dtype=bool)
            if start_s is not None:
                keep &= t_s >= start_s
            if end_s is not None:
                keep &= t_s <= end_s
            cols = {name: values[keep] for name, values in cols.items()}
        total = len(cols["seq"])
        if total <= max_points:
            return None, total
        y = cols[shape]
        if not np.isfinite(y).any():
            if "voltage_v" not in cols:
                continue  # the fallback column is not cached yet: once more with it
            y = cols["voltage_v"]
        return cols["seq"][lttb_indices(cols["t_s"], y, max_points)], total
    raise AssertionError("unreachable: the second pass always has voltage_v")
