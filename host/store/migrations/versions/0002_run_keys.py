"""Runs get their wire key, board and imported flag, and the state `interrupted`.

A run left queued or running by version 1 has no key, so no board can be matched to it: it
is closed as failed with a note rather than left running with nobody measuring it.

Revision 0002 (after 0001).
"""

from alembic import op

from host.store.migrations.rebuild import rebuild_on_sqlite, run_states_check
from host.store.tables import runs, utc_now

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Columns of `runs` at schema version 1 that version 2 keeps.
RUN_COLUMNS_V1 = ("id", "rig", "kind", "state", "params", "progress", "summary", "created_at",
                  "started_at", "finished_at", "error", "calibration")
NO_KEY_NOTE = ("stored before runs carried a run key (schema version 1): this version of "
               "lumenrig cannot follow it on the rig")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        rebuild_on_sqlite(conn, runs, RUN_COLUMNS_V1, "imported")
    else:
        op.drop_constraint("run_state", "runs", type_="check")
        op.create_check_constraint("run_state", "runs", run_states_check())
        for statement in ("ALTER TABLE runs ADD COLUMN run_key BIGINT UNIQUE",
                          "ALTER TABLE runs ADD COLUMN board_id VARCHAR(16)",
                          "ALTER TABLE runs ADD COLUMN imported BOOLEAN NOT NULL DEFAULT false",
                          "ALTER TABLE runs ALTER COLUMN imported DROP DEFAULT",
                          "ALTER TABLE runs DROP COLUMN device_run_id"):
            op.execute(statement)
    op.execute(runs.update().where(runs.c.state.in_(("queued", "running"))).values(
        state="failed", error=NO_KEY_NOTE, finished_at=utc_now()))
