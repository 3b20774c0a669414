"""Test sequences: their table, a run's place in one (sequence, step, the stress run a
check-up interrupted) and the run state `paused`.

Revision 0004 (after 0003).
"""

import sqlalchemy as sa
from alembic import op

from host.store.migrations.rebuild import rebuild_on_sqlite, run_states_check
from host.store.tables import runs, sequences

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Columns of `runs` at schema version 3, all kept by version 4.
RUN_COLUMNS_V3 = ("id", "rig", "kind", "state", "params", "progress", "summary", "created_at",
                  "started_at", "finished_at", "error", "calibration", "run_key", "board_id",
                  "imported", "calibration_id", "device", "operator", "notes", "tags",
                  "archived", "search")


def upgrade() -> None:
    conn = op.get_bind()
    sequences.create(conn, checkfirst=True)
    present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    if "sequence_id" in present:  # rebuilt to today's table by 0002 in this upgrade
        return
    if conn.dialect.name == "sqlite":
        rebuild_on_sqlite(conn, runs, RUN_COLUMNS_V3)
        return
    op.execute("ALTER TABLE runs DROP CONSTRAINT IF EXISTS run_state")
    op.create_check_constraint("run_state", "runs", run_states_check())
    for statement in (
            "ALTER TABLE runs ADD COLUMN sequence_id INTEGER REFERENCES sequences (id)",
            "ALTER TABLE runs ADD COLUMN step_index INTEGER",
            "ALTER TABLE runs ADD COLUMN checkup_of INTEGER REFERENCES runs (id)"):
        op.execute(statement)
