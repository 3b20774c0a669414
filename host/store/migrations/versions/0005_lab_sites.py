"""A lab on one database: the sites that serve it, each rig's site, board and state, and
the commands one site leaves for another.

Revision 0005 (after 0004).
"""

import sqlalchemy as sa
from alembic import op

from host.store.migrations.rebuild import rebuild_on_sqlite
from host.store.tables import Json, UtcDateTime, rigs

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Columns of `rigs` at schema version 4, all kept.
RIG_COLUMNS_V4 = ("name", "spec", "firmware", "first_seen", "last_seen")


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("instance", sa.String(32), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("api_url", sa.Text, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("heartbeat_at", UtcDateTime, nullable=True))
    op.create_table(
        "commands",
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
        sa.CheckConstraint("state IN ('pending', 'taken', 'answered')", name="command_state"))
    op.create_index("ix_commands_site_state", "commands", ["site", "state"])
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":  # (a UNIQUE column cannot be added there)
        rebuild_on_sqlite(conn, rigs, RIG_COLUMNS_V4)
        return
    op.add_column("rigs", sa.Column("site", sa.String(64), sa.ForeignKey("sites.name"),
                                    nullable=True))
    op.add_column("rigs", sa.Column("board_id", sa.String(16), nullable=True, unique=True))
    op.add_column("rigs", sa.Column("status", Json, nullable=True))
