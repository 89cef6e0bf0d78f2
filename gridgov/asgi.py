"""ASGI entry point for multi-worker servers: ``uvicorn gridgov.asgi:app --workers N``."""

from gridgov.app import create_app

app = create_app()
