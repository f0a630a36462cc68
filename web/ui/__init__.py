"""UI: the Flask app factory, blueprints, forms, templates, static files and view helpers."""
