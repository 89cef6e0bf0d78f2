"""FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridgov import __version__
from gridgov.config import Settings, get_settings
from gridgov.db import get_engine
from gridgov.errors import GridgovError


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine(settings)
    app = FastAPI(
        title="gridgov",
        version=__version__,
        description="网格化城市治理平台 — grid governance platform API",
        lifespan=_lifespan,
    )
    # GeoJSON layers compress ~5×; gzip them for the browser (1.4 MB of grids at district scale).
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.state.settings = settings
    app.state.engine = engine
    _install_error_handlers(app)
    _include_routers(app)
    return app


def freeze_heap() -> None:
    """Collect garbage, then take everything still alive out of the cyclic collector (gc.freeze).

    Call once in a server process when its app is built. The loaded app (SQLAlchemy mappers,
    pydantic models, routes: a few hundred thousand objects) lives as long as the process, and
    every full collection would walk it again: 100 ms and more in which the worker answers
    nothing, seen as the slowest reports when the city reports at a steady rate.
    """
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the worker's thread pool for sync endpoints (``request_threads``)."""
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.request_threads
    yield


def _include_routers(app: FastAPI) -> None:
    from gridgov.accounts.api import router as accounts_router
    from gridgov.calendar_admin.api import router as calendar_router
    from gridgov.cases.api import router as cases_router
    from gridgov.cases.board_api import router as board_router
    from gridgov.cases.channels_api import router as intake_router
    from gridgov.cases.command_api import router as command_router
    from gridgov.cases.public_api import router as public_router
    from gridgov.components.api import router as components_router
    from gridgov.components.map_api import router as component_map_router
    from gridgov.dashboard.api import router as dashboard_router
    from gridgov.departments.api import router as departments_router
    from gridgov.gazetteer.api import router as gazetteer_router
    from gridgov.media.api import router as media_router
    from gridgov.patrol.api import router as patrol_router
    from gridgov.regions.api import router as regions_router
    from gridgov.regions.edit_api import router as grid_edit_router
    from gridgov.taxonomy.admin_api import router as taxonomy_admin_router
    from gridgov.taxonomy.api import router as taxonomy_router
    from gridgov.web.pages import mount as mount_web

    app.include_router(regions_router, prefix="/api")
    app.include_router(gazetteer_router, prefix="/api")
    app.include_router(accounts_router, prefix="/api")
    app.include_router(taxonomy_router, prefix="/api")
    app.include_router(components_router, prefix="/api")
    app.include_router(component_map_router, prefix="/api")
    app.include_router(board_router, prefix="/api")  # before cases: /cases/board/… paths
    app.include_router(cases_router, prefix="/api")
    app.include_router(command_router, prefix="/api")
    app.include_router(departments_router, prefix="/api")
    app.include_router(intake_router, prefix="/api")
    app.include_router(media_router, prefix="/api")
    app.include_router(calendar_router, prefix="/api")
    app.include_router(public_router, prefix="/api")
    app.include_router(dashboard_router, prefix="/api")
    app.include_router(patrol_router, prefix="/api")
    app.include_router(grid_edit_router, prefix="/api")
    app.include_router(taxonomy_admin_router, prefix="/api")
    mount_web(app)


def _error(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GridgovError)
    async def _domain(_: Request, exc: GridgovError) -> JSONResponse:
        return _error(exc.status, exc.to_dict())

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query")),
                "message": e.get("msg", "invalid"),
            }
            for e in exc.errors()
        ]
        msg = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return _error(422, {"code": "invalid", "message": msg, "problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, {"code": code, "message": str(exc.detail)})

    @app.exception_handler(OperationalError)
    async def _database(_: Request, exc: OperationalError) -> JSONResponse:
        # SQLite's one write lock stayed taken past busy_timeout (an overloaded embedded
        # deployment): the request changed nothing, so say "busy, retry" rather than "broken".
        if "database is locked" in str(exc.orig):
            response = _error(
                503,
                {"code": "database_busy", "message": "the database is busy; try again shortly"},
            )
            response.headers["Retry-After"] = "2"
            return response
        return await _unexpected(_, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Never a traceback to the client; the server log keeps it.
        import logging

        logging.getLogger("gridgov").exception("unhandled error")
        return _error(500, {"code": "internal", "message": "internal error; see the server log"})
