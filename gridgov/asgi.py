"""ASGI entry point for multi-worker servers: ``uvicorn gridgov.asgi:app --workers N``."""

from gridgov.app import create_app, freeze_heap

app = create_app()
freeze_heap()
