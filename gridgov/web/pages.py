"""Browser pages: ``/`` → ``/map``, the map page, ``/static`` and ``/i18n/{lang}.json``.

Templates are plain ``string.Template`` files (``$name`` placeholders, values HTML-escaped here),
so the web layer needs no template engine. When the vendor build is missing the map page says so
in Chinese and English, with the command that builds it, instead of rendering a blank map.
"""

from __future__ import annotations

import html
import json
import os
from functools import lru_cache
from os import PathLike
from pathlib import Path
from string import Template
from typing import Any, Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from gridgov import __version__
from gridgov.errors import NotFound

WEB_DIR: Final = Path(__file__).parent
STATIC_DIR: Final = WEB_DIR / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"
TEMPLATES_DIR: Final = WEB_DIR / "templates"
I18N_DIR: Final = WEB_DIR / "i18n"

#: The command that fills ``static/vendor/`` (run from the repository root).
BUILD_COMMAND: Final = "npm --prefix web ci && node web/build.mjs"
#: Files the map page cannot work without.
VENDOR_FILES: Final = ("maplibre-gl.js", "maplibre-gl.css")
LANGUAGES: Final = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final = "zh-CN"

router = APIRouter(include_in_schema=False)


class _StaticFiles(StaticFiles):
    """Static files that browsers revalidate each time (cheap 304s), except the vendor bundle,
    whose URLs carry a version token and may be cached."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if "/vendor/" in str(full_path).replace(os.sep, "/"):
            response.headers["Cache-Control"] = "public, max-age=86400"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response


def missing_vendor_files() -> list[str]:
    """Vendor files the build should have produced but that are not there."""
    return [name for name in VENDOR_FILES if not (VENDOR_DIR / name).is_file()]


def asset_version() -> str:
    """A token appended to asset URLs so a rebuilt front-end is never served from a stale cache."""
    stamps = [
        int(p.stat().st_mtime)
        for p in (STATIC_DIR / "map.js", STATIC_DIR / "map.css", VENDOR_DIR / "maplibre-gl.js")
        if p.is_file()
    ]
    return f"{__version__}-{max(stamps, default=0):x}"


@lru_cache(maxsize=8)
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    """Fill a template; every value is HTML-escaped (templates hold no user markup)."""
    return _template(name).substitute({k: html.escape(v) for k, v in values.items()})


def _translations(lang: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def _page_language(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    lang = getattr(settings, "language", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/map", status_code=307)


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> HTMLResponse:
    """网格地图: the district's regions and grids on a MapLibre map of our own layers."""
    missing = missing_vendor_files()
    if missing:
        body = render(
            "not_built.html",
            command=BUILD_COMMAND,
            missing=", ".join(f"gridgov/web/static/vendor/{m}" for m in missing),
        )
        return HTMLResponse(body, status_code=503)
    lang = _page_language(request)
    settings = getattr(request.app.state, "settings", None)
    body = render(
        "map.html",
        lang=lang,
        title=str(_translations(lang).get("app.title", "gridgov")),
        timezone=str(getattr(settings, "timezone", "Asia/Shanghai")),
        v=asset_version(),
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-cache"})


@router.get("/i18n/{lang}.json")
def translations(lang: str) -> FileResponse:
    """The UI's labels for one language (``zh-CN`` or ``en``)."""
    if lang not in LANGUAGES:
        raise NotFound(
            f"no translations for language {lang!r}; available: {', '.join(LANGUAGES)}",
            code="unknown_language",
        )
    return FileResponse(
        I18N_DIR / f"{lang}.json",
        media_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def mount(app: FastAPI) -> None:
    """Serve the browser UI from ``app``: pages, ``/static`` and ``/i18n``."""
    app.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
