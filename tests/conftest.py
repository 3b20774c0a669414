"""Shared fixtures: stores on SQLite and on the machine's PostgreSQL, sample columns."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from host.store import Store
from tests.support.pgscratch import drop_stale_schemas, pg_unreachable_reason, temporary_pg_schema

# No per-example deadline and no data-generation speed check: how long an example takes
# depends on how busy the machine is (hypothesis's defaults fail a property that holds, with
# DeadlineExceeded, Flaky or FailedHealthCheck too_slow).
settings.register_profile("lumenrig", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lumenrig")

PG_URL = os.environ.get("LUMENRIG_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """The PostgreSQL test database; its absence fails the test under CI, skips it else."""
    reason = pg_unreachable_reason(PG_URL)
    if reason is not None:
        message = f"PostgreSQL at {PG_URL} is not reachable ({reason})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must provide it", pytrace=False)
        pytest.skip(message + "; set CI=1 to make this a failure")
    drop_stale_schemas(PG_URL)  # left by an interrupted run
    return PG_URL


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A URL into a fresh schema of its own, dropped after the test."""
    with temporary_pg_schema(pg_base_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return "sqlite:///%s" % (tmp_path / "lumenrig.sqlite")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """The same test against a SQLite file and against PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture
def run_id(store: Store) -> int:
    """A queued lifetime run on rig1."""
    store.upsert_rig("rig1", "sim:G1")
    return store.create_run("rig1", "lifetime", {"voltage_v": 4.0}).id


SampleFactory = Callable[..., dict[str, np.ndarray]]


def sample_columns(seq, **overrides) -> dict[str, np.ndarray]:
    """Physical sample columns whose every value follows from seq (so any read-back row
    can be checked on its own); overrides replace or add columns."""
    seq = np.asarray(seq, dtype=np.int64)
    s = seq.astype(np.float64)
    columns = {
        "seq": seq,
        "t_s": s * 0.25,
        "setpoint_v": np.full(len(seq), 4.5),
        "voltage_v": 4.0 + s * 1e-4,
        "current_a": 1e-3 + s * 1e-9,
        "pd_a": 2e-7 - s * 1e-13,
        "luminance_cd_m2": 1000.0 - s * 1e-3,
        "temperature_c": 25.0 + (seq % 7) * 0.01,
        "humidity_pct": 40.0 + (seq % 5) * 0.1,
        "pd_range": seq % 4,
        "flags": seq % 256,
    }
    columns.update(overrides)
    return columns


@pytest.fixture
def make_samples() -> SampleFactory:
    """sample_columns as a fixture: make_samples(seq_array, **overrides)."""
    return sample_columns
