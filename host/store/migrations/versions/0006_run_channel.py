"""Runs get the channel (pixel) of their rig they ran on: 0 for every earlier run, which ran
on a one-channel rig.

Revision 0006 (after 0005).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "channel" not in present:
        op.execute("ALTER TABLE runs ADD COLUMN channel INTEGER NOT NULL DEFAULT 0")
