"""Store: database engine and sessions, models, migrations and the typed settings."""
