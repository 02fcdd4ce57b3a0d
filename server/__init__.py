"""The studio: a Litestar server that watches the project, rebuilds what a save changed, and carries review,
approval and publishing in the browser. `server.app.create_app` builds the app; `python -m server` runs it."""
