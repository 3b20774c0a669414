"""Runs get labels (device, operator, notes, tags), an archived flag, their search text and
the id of the calibration version they used (unknown, null, for older runs).

Revision 0003 (after 0002).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    false = "false" if conn.dialect.name == "postgresql" else "0"
    # A SQLite table rebuilt by 0002 in this same upgrade already has them.
    present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    for column in (f"device {json_type}", "operator VARCHAR(64)",
                   "notes TEXT NOT NULL DEFAULT ''", f"tags {json_type} NOT NULL DEFAULT '[]'",
                   f"archived BOOLEAN NOT NULL DEFAULT {false}",
                   "search TEXT NOT NULL DEFAULT ''",
                   "calibration_id INTEGER REFERENCES calibrations (id)"):
        if column.split()[0] not in present:
            op.execute("ALTER TABLE runs ADD COLUMN " + column)
