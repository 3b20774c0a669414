"""Alembic's script folder for the store: env.py and one revision per schema change
(host.store.upgrade runs them; docs/storage.md says how to add one)."""
