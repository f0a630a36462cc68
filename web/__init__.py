"""The panelslot application: Flask app, database, jobs and the CLI."""
