"""HTTP API over the graph store: ``api.app.create_app(settings)``, ``api.server.serve``."""
