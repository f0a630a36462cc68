"""Alembic migrations of the panelslot database (driven by web.store.migrate, no alembic.ini)."""
