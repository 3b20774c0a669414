"""The database schema: one SQLAlchemy Core metadata for SQLite and PostgreSQL.

A change here needs its Alembic revision in host/store/migrations/versions (docs/storage.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from host.store.columns import SAMPLE_COLUMNS
from host.store.records import RUN_KINDS, RUN_STATES, SEQUENCE_STATES


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Wall time stored as UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value}: give wall times with a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


Json = sa.JSON().with_variant(JSONB(), "postgresql")

_SQL_TYPES = {"int": sa.Integer(), "float": sa.Double(), "bool": sa.Boolean()}


def _sample_type(name: str, kind: str) -> Any:
    return sa.BigInteger() if name == "seq" else _SQL_TYPES[kind]


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


metadata = sa.MetaData()

# The services of a lab sharing this database, one row per site (host.lab): `instance` is
# the running service's random id (a second service claiming an online site is refused,
# unless the holder was a process of the same computer that is gone: `hostname`, `pid`),
# `heartbeat_at` its last sign of life on the database's own clock (offline after
# host.store.sites.OFFLINE_AFTER_S).
sites = sa.Table(
    "sites", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("instance", sa.String(32), nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("api_url", sa.Text, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("heartbeat_at", UtcDateTime, nullable=True),  # null: stopped cleanly
)

# A request one service of the lab makes of the site serving a rig (host.lab.commands): that
# site carries it out and writes the answer, as HTTP status and body, for the asker to return.
commands = sa.Table(
    "commands", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(64), sa.ForeignKey("sites.name"), nullable=False),
    sa.Column("from_site", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("body", Json, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("answer", Json, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("answered_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("state IN ('pending', 'taken', 'answered')", name="command_state"),
    sa.Index("ix_commands_site_state", "site", "state"),
)

# A rig's name is unique in the lab: the site serving it, the board last seen behind it (a
# board keeps its name wherever it is plugged in) and its state as that site last wrote it.
rigs = sa.Table(
    "rigs", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("firmware", Json, nullable=True),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("site", sa.String(64), sa.ForeignKey("sites.name"), nullable=True),
    sa.Column("board_id", sa.String(16), nullable=True, unique=True),
    sa.Column("status", Json, nullable=True),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rig", sa.String(64), sa.ForeignKey("rigs.name"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("params", Json, nullable=False),
    sa.Column("progress", sa.Double, nullable=False, default=0.0),
    sa.Column("summary", Json, nullable=True),
    # The run's identity on the wire (host.runkey); null only for runs stored before keys.
    sa.Column("run_key", sa.BigInteger, nullable=True, unique=True),
    sa.Column("board_id", sa.String(16), nullable=True),  # the board it was measured on
    sa.Column("imported", sa.Boolean, nullable=False, default=False),  # adopted from a board
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("calibration", Json, nullable=True),
    # Labels (host.runs.labels): the device under test, who ran it, notes and tags; `search`
    # is their lowercased text for `?q=`; an archived run is left out of lists by default.
    sa.Column("calibration_id", sa.Integer, sa.ForeignKey("calibrations.id"), nullable=True),
    sa.Column("device", Json, nullable=True),
    sa.Column("operator", sa.String(64), nullable=True),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("tags", Json, nullable=False, server_default="[]"),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("search", sa.Text, nullable=False, server_default=""),
    # A run of a test sequence: its step, and for a check-up the stress run it interrupted.
    sa.Column("sequence_id", sa.Integer, sa.ForeignKey("sequences.id"), nullable=True),
    sa.Column("step_index", sa.Integer, nullable=True),
    sa.Column("checkup_of", sa.Integer, sa.ForeignKey("runs.id"), nullable=True),
    # The rig's channel (pixel) it ran on (protocol/schema.py MAX_CHANNELS).
    sa.Column("channel", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint(_in("state", RUN_STATES), name="run_state"),
    sa.CheckConstraint(_in("kind", RUN_KINDS), name="run_kind"),
    sa.CheckConstraint("progress >= 0 AND progress <= 1", name="run_progress"),
    sa.Index("ix_runs_rig_state", "rig", "state"),
)

sequences = sa.Table(
    "sequences", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rig", sa.String(64), sa.ForeignKey("rigs.name"), nullable=False),
    sa.Column("channel", sa.Integer, nullable=False, server_default="0"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("spec", Json, nullable=False),  # the request as validated (host.sequences.spec)
    sa.Column("step_index", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cursor", Json, nullable=False, server_default="{}"),  # the runner's place
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.CheckConstraint(_in("state", SEQUENCE_STATES), name="sequence_state"),
    sa.Index("ix_sequences_rig_state", "rig", "state"),
)

# Keyed by (run_id, seq): a resent or resumed sample can never become a second row.
# Without a rowid on SQLite the key is the table's own b-tree: one write per sample.
# No foreign key to runs: a per-row check would halve PostgreSQL's ingest rate, so
# insert_samples checks the run once per call, in the same transaction.
samples = sa.Table(
    "samples", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=False),
    *(sa.Column(c.name, _sample_type(c.name, c.kind),
                primary_key=c.name == "seq", autoincrement=False, nullable=c.nullable)
      for c in SAMPLE_COLUMNS),
    sqlite_with_rowid=False,
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
              nullable=True),
    sa.Column("rig", sa.String(64), nullable=True),
    sa.Column("t", UtcDateTime, nullable=False),
    sa.Column("code", sa.Integer, nullable=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("data", Json, nullable=True),
    sa.Column("key", sa.String(128), nullable=True, unique=True),
    sa.Index("ix_events_run", "run_id", "id"),
    sa.Index("ix_events_rig", "rig", "id"),
)

calibrations = sa.Table(
    "calibrations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rig", sa.String(64), sa.ForeignKey("rigs.name"), nullable=False),
    sa.Column("calibration", Json, nullable=False),
    sa.Column("set_at", UtcDateTime, nullable=False),
    sa.Index("ix_calibrations_rig", "rig", "id"),
)
