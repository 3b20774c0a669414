"""Sample ingest figures: Store.insert_samples on SQLite and PostgreSQL against a naive
per-row parse + INSERT + commit, measured in the same run on the same records.

Both paths start from the same raw 33-byte SAMPLE records (wire.SAMPLE_DTYPE) and end
with physical rows in the samples table; the fast path works a batch at a time (numpy
parse, host.runs.units, insert_samples), the naive one a record at a time.
"""

from __future__ import annotations

import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from host.link.wire import SAMPLE_DTYPE
from host.runs.units import Converter
from host.store import Store
from host.store.engine import make_engine
from host.store.tables import samples
from protocol import schema
from tests.support.pgscratch import pg_unreachable_reason, temporary_pg_schema

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RECORD = struct.Struct(schema.SAMPLE_FORMAT)
GOAL_SQLITE = 100_000


def raw_records(n: int, seed: int = 7) -> bytes:
    """n SAMPLE records shaped like a photostability run, in wire bytes."""
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=SAMPLE_DTYPE)
    seq = np.arange(n)
    rec["seq"] = seq
    rec["t_s"] = seq // 10
    rec["t_us"] = (seq % 10) * 100_000
    rec["setpoint_mv"] = 0
    rec["voltage_mv"] = rng.integers(-2, 3, n)
    rec["current_na"] = rng.integers(-5, 6, n)
    rec["pd_pa"] = (2_000_000 * np.exp(-seq / 5e5)).astype(np.int64) + rng.integers(0, 500, n)
    rec["temperature_cc"] = 2500 + rng.integers(0, 20, n)
    rec["humidity_cpct"] = 4000 + rng.integers(0, 50, n)
    rec["pd_range"] = 1
    rec["flags"] = schema.FLAG_LASER_ON | schema.FLAG_SHUTTER_OPEN | schema.FLAG_INTERLOCK_OK
    return rec.tobytes()


def _new_run(store: Store) -> int:
    store.upsert_rig("bench", "sim:film")
    return store.create_run("bench", "photostability", {"duration_s": 7200}).id


def fast_ingest(store: Store, data: bytes, batch_samples: int) -> tuple[float, float]:
    """Samples/s through numpy parse + conversion + insert_samples, batch by batch: per
    wall second, and per CPU second of this process (SQLite's whole cost, one core, whatever
    else the machine runs; for PostgreSQL it leaves out the server's share)."""
    run_id = _new_run(store)
    converter = Converter("pl", None)
    step = batch_samples * SAMPLE_DTYPE.itemsize
    t0, cpu0 = time.perf_counter(), time.process_time()
    stored = 0
    for start in range(0, len(data), step):
        records = np.frombuffer(data, SAMPLE_DTYPE, count=min(step, len(data) - start)
                                // SAMPLE_DTYPE.itemsize, offset=start)
        stored += store.insert_samples(run_id, converter.columns(records))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert stored == len(data) // SAMPLE_DTYPE.itemsize == store.sample_count(run_id)
    return stored / elapsed, stored / cpu


def _physical_row(run_id: int, raw: tuple[int, ...]) -> dict[str, Any]:
    r = dict(zip(schema.SAMPLE_NAMES, raw))
    return {"run_id": run_id, "seq": r["seq"], "t_s": r["t_s"] + r["t_us"] * 1e-6,
            "setpoint_v": r["setpoint_mv"] * 1e-3, "voltage_v": r["voltage_mv"] * 1e-3,
            "current_a": r["current_na"] * 1e-9, "pd_a": r["pd_pa"] * 1e-12,
            "luminance_cd_m2": None, "pl": r["pd_pa"] * 1e-12,
            "temperature_c": r["temperature_cc"] * 1e-2, "humidity_pct": r["humidity_cpct"] * 1e-2,
            "shutter_open": bool(r["flags"] & schema.FLAG_SHUTTER_OPEN),
            "pd_range": r["pd_range"], "flags": r["flags"]}


def naive_ingest(store: Store, data: bytes) -> float:
    """Samples/s with one struct.unpack, one INSERT and one commit per sample."""
    run_id = _new_run(store)
    dialect = sa.dialects.postgresql if store.dialect == "postgresql" else sa.dialects.sqlite
    statement = dialect.insert(samples).on_conflict_do_nothing(
        index_elements=[samples.c.run_id, samples.c.seq])
    engine = make_engine(store.url)  # the Store's own settings (SQLite pragmas included)
    n = len(data) // RECORD.size
    t0 = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(statement, _physical_row(run_id, RECORD.unpack_from(data, i * RECORD.size)))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    assert store.sample_count(run_id) == n
    return n / elapsed


def resend_ingest(store: Store, data: bytes, batch_samples: int) -> float:
    """Samples/s when every sample arrives a second time (a full resend): all skipped."""
    run_id = _new_run(store)
    converter = Converter("pl", None)
    columns = converter.columns(np.frombuffer(data, SAMPLE_DTYPE))
    store.insert_samples(run_id, columns)
    n = len(columns["seq"])
    t0 = time.perf_counter()
    added = 0
    for start in range(0, n, batch_samples):
        added += store.insert_samples(run_id, {k: v[start:start + batch_samples]
                                               for k, v in columns.items()})
    elapsed = time.perf_counter() - t0
    assert added == 0
    return n / elapsed


def read_back(store: Store, n: int) -> float:
    """Samples/s of read_samples (every column) over one stored run of n samples."""
    run_id = store.list_runs(limit=None)[-1].id
    t0 = time.perf_counter()
    got = store.read_samples(run_id)
    elapsed = time.perf_counter() - t0
    assert len(got["seq"]) == n
    return n / elapsed


def _dialect_figures(prefix: str, store: Store, data: bytes, naive: bytes,
                     batch_samples: int) -> dict[str, dict[str, Any]]:
    fast, fast_cpu = fast_ingest(store, data, batch_samples)
    slow = naive_ingest(store, naive)
    goal = f">= {GOAL_SQLITE}" if prefix == "sqlite" else ""
    out = {
        f"ingest_{prefix}_samples_per_s": {"value": fast, "unit": "samples/s", "goal": goal},
        f"ingest_{prefix}_samples_per_cpu_s": {"value": fast_cpu,
                                               "unit": "samples/CPU-s (client)", "goal": goal},
        f"ingest_{prefix}_naive_samples_per_s": {"value": slow, "unit": "samples/s"},
        f"ingest_{prefix}_vs_naive_ratio": {"value": fast / slow, "unit": "x"},
        f"ingest_{prefix}_resend_samples_per_s": {
            "value": resend_ingest(store, data, batch_samples), "unit": "samples/s (all dup)"},
    }
    out[f"read_{prefix}_samples_per_s"] = {"value": read_back(store, len(data) // RECORD.size),
                                           "unit": "samples/s (13 columns)"}
    return out


def run(n_samples: int = 200_000, batch_samples: int = 4000, naive_samples: int = 3000,
        pg_url: str = PG_URL) -> dict[str, dict[str, Any]]:
    """Figures for SQLite (a WAL file in a temporary folder) and, when reachable, PostgreSQL."""
    data = raw_records(n_samples)
    naive = data[:naive_samples * RECORD.size]
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        with Store(url) as store:
            figures.update(_dialect_figures("sqlite", store, data, naive, batch_samples))
    reason = pg_unreachable_reason(pg_url)
    if reason is None:
        with temporary_pg_schema(pg_url, prefix="lumenrig_bench") as url, Store(url) as store:
            figures.update(_dialect_figures("postgresql", store, data, naive, batch_samples))
    else:
        figures["ingest_postgresql_samples_per_s"] = {"value": "skipped", "unit": "",
                                                      "goal": f"unreachable: {reason}"}
    return figures


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:42s} {figure['value']!s:>14.10} {figure['unit']}")
