"""Schema version 1, as lumenrig made it before its schema was kept by Alembic.

A store of that time is stamped here when it is first opened (host.store.upgrade); a new
store is created from today's tables and stamped at the head, so nothing here creates one.

Revision 0001 (the first).
"""

from host.store.errors import SchemaVersionError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    raise SchemaVersionError("an empty database is not built by replaying migrations: "
                             "open it with lumenrig, which creates today's schema")
