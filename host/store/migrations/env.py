"""Alembic's environment: migrations run on the connection (and inside the transaction) that
host.store.upgrade hands over, never on one of their own."""

from alembic import context

from host.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
