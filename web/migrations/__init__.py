"""Alembic migrations of the panelslot database (driven by web.migrate, no alembic.ini)."""
