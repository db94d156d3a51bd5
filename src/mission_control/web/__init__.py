"""The web layer: app factory, authentication dependencies, live events, templates and static files."""
