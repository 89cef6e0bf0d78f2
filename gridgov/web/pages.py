"""Browser pages: the page table, the shared shell, login redirects, ``/static`` and ``/i18n``.

Every page is one row of :data:`PAGES` (path, id, title key, roles, needs MapLibre / ECharts,
phone layout, who gets a link in the top bar). A page is served as the one shell template
(``templates/shell.html``): a top bar (brand, nav links the viewer's role may open, language
switch, user name + logout), ``<main id="page">`` and a toast area; the shell script
(``static/lib/shell.js``) then imports the page's module ``/static/pages/<id>.js`` and calls its
``mount(ctx)``. A page whose module is not written yet gets ``pages/placeholder.js`` (本页面正在
建设中), never a broken reference. See ``gridgov/web/README.md`` for the conventions.

Access: a page with roles needs a live session (cookie ``gridgov_session``, checked with the
accounts helpers): none or expired → 302 to ``/login?next=<path>``; a role not allowed → the
shell with a translated 403 notice. ``/`` sends a logged-in user to their role's home page.

Templates are plain ``string.Template`` files (``$name`` placeholders, values HTML-escaped here
unless passed as ``raw``), so the web layer needs no template engine. Labels live in
``i18n/<lang>/<namespace>.json`` and are merged for ``GET /i18n/{lang}.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path
from string import Template
from typing import Any, Final
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

from gridgov import __version__
from gridgov.accounts import auth
from gridgov.accounts.models import Role
from gridgov.db import session_scope
from gridgov.errors import NotFound, Unauthorized

WEB_DIR: Final = Path(__file__).parent
STATIC_DIR: Final = WEB_DIR / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"
PAGES_DIR: Final = STATIC_DIR / "pages"
TEMPLATES_DIR: Final = WEB_DIR / "templates"
I18N_DIR: Final = WEB_DIR / "i18n"

#: The command that fills ``static/vendor/`` (run from the repository root).
BUILD_COMMAND: Final = "npm --prefix web ci && node web/build.mjs"
#: Files the map page cannot work without.
VENDOR_FILES: Final = ("maplibre-gl.js", "maplibre-gl.css")
#: ECharts, when the front-end build provides it (web/build.mjs); pages flagged ``echarts``
#: get it only if it is there, and ``config.missing_vendor`` says so otherwise.
ECHARTS_FILE: Final = "echarts.min.js"
LANGUAGES: Final = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final = "zh-CN"
#: The cookie the language switch sets, so the server renders the shell in the chosen language.
LANG_COOKIE: Final = "gridgov_lang"
LOGIN_PATH: Final = "/login"
#: A user who may open the page's link in the top bar without logging in.
ANONYMOUS: Final = "anonymous"

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------------------------
# The page table


ALL_ROLES: Final = frozenset(Role)
STAFF: Final = frozenset(Role) - {Role.RESIDENT}


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


def _who(*names: Role | str) -> frozenset[str]:
    return frozenset(str(n) for n in names)


@dataclass(frozen=True)
class Page:
    """One browser page.

    ``roles`` None: public (anyone, logged in or not). Otherwise a live session with one of
    these roles. ``nav``: who sees a link to the page in the top bar (role values and
    :data:`ANONYMOUS`). ``maplibre``/``echarts``: the page draws a map / charts (the shell links
    MapLibre's stylesheet and reports a missing vendor file; the page loads the script after its
    first view, ``static/lib/lazy.js``). ``phone``: the compact phone layout (no side
    navigation, bottom toasts).
    ``module`` is ``/static/pages/<id>.js`` (or ``pages/placeholder.js`` while it does not exist);
    ``legacy_template`` is for the pre-shell map page only.
    """

    path: str
    id: str
    title_key: str
    roles: frozenset[Role] | None
    maplibre: bool = False
    echarts: bool = False
    phone: bool = False
    nav: frozenset[str] = frozenset()
    legacy_template: str | None = None

    @property
    def module_file(self) -> Path:
        return PAGES_DIR / f"{self.id}.js"

    @property
    def built(self) -> bool:
        """True when the page's module exists (else the shell mounts the placeholder)."""
        return self.legacy_template is not None or self.module_file.is_file()

    @property
    def module(self) -> str:
        return f"/static/pages/{self.id if self.built else 'placeholder'}.js"

    def allows(self, role: Role | None) -> bool:
        return self.roles is None or (role is not None and role in self.roles)


PAGES: Final[tuple[Page, ...]] = (
    Page("/login", "login", "page.login", None),
    Page(
        "/supervision",
        "supervision",
        "page.supervision",
        _roles(Role.ACCEPTOR, Role.SHIFT_LEAD, Role.ADMIN),
        nav=_who(Role.ACCEPTOR, Role.SHIFT_LEAD, Role.ADMIN),
    ),
    Page("/case/{case_no}", "case", "page.case", ALL_ROLES, maplibre=True),
    Page(
        "/command",
        "command",
        "page.command",
        _roles(Role.DISPATCHER, Role.ADMIN),
        maplibre=True,
        nav=_who(Role.DISPATCHER, Role.ADMIN),
    ),
    Page(
        "/department",
        "department",
        "page.department",
        _roles(Role.DEPARTMENT),
        nav=_who(Role.DEPARTMENT),
    ),
    Page(
        "/m",
        "mobile",
        "page.mobile",
        _roles(Role.SUPERVISOR),
        maplibre=True,
        phone=True,
        nav=_who(Role.SUPERVISOR),
    ),
    Page("/report", "report", "page.report", None, phone=True, nav=_who(Role.RESIDENT, ANONYMOUS)),
    Page("/track", "track", "page.track", None, phone=True, nav=_who(Role.RESIDENT, ANONYMOUS)),
    Page(
        "/leader",
        "leader",
        "page.leader",
        _roles(Role.LEADER, Role.ADMIN),
        maplibre=True,
        echarts=True,
        nav=_who(Role.LEADER, Role.ADMIN),
    ),
    Page("/admin", "admin", "page.admin", _roles(Role.ADMIN), nav=_who(Role.ADMIN)),
    Page(
        "/map",
        "map",
        "page.map",
        None,
        maplibre=True,
        nav=_who(*STAFF),
    ),
)
PAGES_BY_ID: Final = {p.id: p for p in PAGES}

#: Where ``/`` and a login without ``next`` send each role.
HOME_BY_ROLE: Final[Mapping[Role, str]] = {
    Role.SUPERVISOR: "/m",
    Role.RESIDENT: "/report",
    Role.ACCEPTOR: "/supervision",
    Role.SHIFT_LEAD: "/supervision",
    Role.DISPATCHER: "/command",
    Role.DEPARTMENT: "/department",
    Role.LEADER: "/leader",
    Role.ADMIN: "/admin",
    Role.REGISTRAR: "/map",
}


def home_for(role: Role | None) -> str:
    return HOME_BY_ROLE.get(role, LOGIN_PATH) if role is not None else LOGIN_PATH


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site (``/x?y``), else None: no scheme, no host, no
    ``//`` or backslash tricks, no control characters, not the login page itself."""
    if not value or len(value) > 2000:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if parts.path == LOGIN_PATH or parts.path.startswith(LOGIN_PATH + "/"):
        return None
    return value


# ---------------------------------------------------------------------------------------------
# Static files, vendor check, asset versions


@lru_cache(maxsize=8)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    """A vendor file gzipped once (per modification time), not on every request."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


class _StaticFiles(StaticFiles):
    """Static files that browsers revalidate each time (cheap 304s), except the vendor bundle,
    whose URLs carry a version token and may be cached. The vendor scripts and stylesheets (a
    megabyte each) go out gzipped from a compressed copy kept in memory: the app's GZip
    middleware would compress them again for every browser without a cache."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = str(full_path).replace(os.sep, "/")
        if path.endswith("/pages/mobile/sw.js"):  # the phone app's service worker, scope /m
            response.headers["Service-Worker-Allowed"] = "/m"
        if "/vendor/" not in path:
            response.headers["Cache-Control"] = "no-cache"
            return response
        response.headers["Cache-Control"] = "public, max-age=86400"
        accepts = Headers(scope=scope).get("accept-encoding", "")
        if (
            response.status_code != 200
            or not path.endswith((".js", ".css"))
            or ("gzip" not in accepts)
        ):
            return response
        body = _gzipped(str(full_path), stat_result.st_mtime_ns)
        headers = {
            name: response.headers[name]
            for name in ("etag", "last-modified", "cache-control")
            if name in response.headers
        }
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return Response(body, status_code, headers=headers, media_type=response.media_type)


def missing_vendor_files() -> list[str]:
    """Vendor files the build should have produced but that are not there."""
    return [name for name in VENDOR_FILES if not (VENDOR_DIR / name).is_file()]


def asset_version() -> str:
    """A token appended to asset URLs so a rebuilt front-end is never served from a stale cache."""
    stamps = [int(p.stat().st_mtime) for p in _asset_files() if p.is_file()]
    return f"{__version__}-{max(stamps, default=0):x}"


def _asset_files() -> list[Path]:
    files = [VENDOR_DIR / "maplibre-gl.js", VENDOR_DIR / ECHARTS_FILE]
    for sub in ("", "lib", "pages", "pages/mobile"):
        folder = STATIC_DIR / sub
        if folder.is_dir():
            files += [p for p in folder.iterdir() if p.suffix in (".js", ".css")]
    return files


# ---------------------------------------------------------------------------------------------
# Templates and translations


@lru_cache(maxsize=8)
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def render(name: str, raw: Mapping[str, str] | None = None, **values: str) -> str:
    """Fill a template; every value is HTML-escaped except those in ``raw`` (markup built here
    from escaped parts, and the page config JSON)."""
    filled = {k: html.escape(v) for k, v in values.items()}
    filled.update(raw or {})
    return _template(name).substitute(filled)


def namespaces(lang: str) -> dict[str, dict[str, str]]:
    """``{namespace: {key: label}}`` of one language, read from ``i18n/<lang>/*.json``."""
    folder = I18N_DIR / lang
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def _stamp(lang: str) -> tuple[tuple[str, int], ...]:
    return tuple((p.name, p.stat().st_mtime_ns) for p in sorted((I18N_DIR / lang).glob("*.json")))


@lru_cache(maxsize=8)
def _merged(lang: str, stamp: tuple[tuple[str, int], ...]) -> tuple[dict[str, str], bytes, str]:
    merged: dict[str, str] = {}
    for labels in namespaces(lang).values():
        merged.update(labels)
    body = json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return merged, body, hashlib.sha256(body).hexdigest()[:20]


def translations_of(lang: str) -> dict[str, str]:
    """Every label of ``lang``, all namespaces merged (reloaded when a file changes)."""
    return _merged(lang, _stamp(lang))[0]


def _t(labels: Mapping[str, str], key: str, **values: str) -> str:
    text = labels.get(key, key)
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _settings_language(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    lang = getattr(settings, "language", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _page_language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else _settings_language(request)


def _timezone(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    return str(getattr(settings, "timezone", "Asia/Shanghai"))


# ---------------------------------------------------------------------------------------------
# Who is looking


@dataclass(frozen=True)
class Viewer:
    """The logged-in user as the shell shows them."""

    username: str
    name: str
    role: Role
    department_code: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "name": self.name,
            "role": self.role.value,
            "department_code": self.department_code,
        }


def viewer_of(request: Request) -> Viewer | None:
    """The user behind the request's session (cookie or bearer token), or None when there is
    none or it is unknown, expired or revoked (the accounts helpers decide)."""
    if auth.request_token(request) is None:
        return None
    with session_scope(request.app.state.engine) as session:
        try:
            user = auth.user_from_request(session, request, required=False)
        except Unauthorized:
            return None
        if user is None:
            return None
        return Viewer(user.username, user.name, user.role, user.department_code)


# ---------------------------------------------------------------------------------------------
# The shell


def _nav_links(viewer: Viewer | None, current: Page, labels: Mapping[str, str]) -> str:
    who = viewer.role.value if viewer else ANONYMOUS
    links = []
    for page in PAGES:
        if who not in page.nav or not page.allows(viewer.role if viewer else None):
            continue
        current_attr = ' aria-current="page"' if page.id == current.id else ""
        links.append(
            f'<a href="{html.escape(page.path)}" data-page-link="{page.id}"'
            f' data-i18n="{page.title_key}"{current_attr}>'
            f"{html.escape(_t(labels, page.title_key))}</a>"
        )
    return "\n    ".join(links)


def _user_block(viewer: Viewer | None, current: Page, labels: Mapping[str, str]) -> str:
    if viewer is None:
        if current.id == "login":
            return ""
        return (
            f'<a class="login-link" href="{LOGIN_PATH}" data-i18n="shell.login">'
            f"{html.escape(_t(labels, 'shell.login'))}</a>"
        )
    role_key = f"role.{viewer.role.value}"
    return (
        '<span class="user" data-i18n-title="shell.user"'
        f' title="{html.escape(_t(labels, "shell.user"))}">'
        f'<span class="user-name" id="user-name">{html.escape(viewer.name)}</span> '
        f'<span class="user-role" data-i18n="{role_key}">{html.escape(_t(labels, role_key))}'
        "</span></span>"
        '<button type="button" id="logout" class="logout" data-i18n="shell.logout">'
        f"{html.escape(_t(labels, 'shell.logout'))}</button>"
    )


def _json_script(data: Mapping[str, Any]) -> str:
    """JSON safe to place inside ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: ``import … from "./x.js"`` / ``"../lib/x.js"`` (static, relative imports only).
_IMPORT = re.compile(
    r"""(?:^|\n)\s*(?:import|export)\b[^;"']*?from\s*["'](\.{1,2}/[^"']+\.js)["']"""
)


@lru_cache(maxsize=64)
def _imports_of(path: Path, mtime_ns: int) -> tuple[str, ...]:
    """The static-file URLs a module imports with relative static imports."""
    text = path.read_text(encoding="utf-8")
    out = []
    for spec in _IMPORT.findall(text):
        target = (path.parent / spec).resolve()
        try:
            out.append("/static/" + target.relative_to(STATIC_DIR.resolve()).as_posix())
        except ValueError:
            continue
    return tuple(out)


def module_graph(url: str) -> list[str]:
    """Every module ``url`` (a ``/static/…`` path) imports, directly or not, in first-seen
    order: the shell preloads them all so the browser fetches them in parallel instead of one
    import level after the other."""
    seen: list[str] = []
    todo = [url]
    while todo:
        current = todo.pop(0)
        path = STATIC_DIR / current.removeprefix("/static/")
        if not path.is_file():
            continue
        for dep in _imports_of(path, path.stat().st_mtime_ns):
            if dep not in seen and dep != url:
                seen.append(dep)
                todo.append(dep)
    return seen


def _head(page: Page, v: str, lang: str) -> tuple[str, list[str]]:
    """Extra ``<head>`` markup for the page (vendor libraries, module and label preloads) and
    the vendor files it wanted but the build did not provide."""
    tags = [f'<link rel="preload" href="/i18n/{lang}.json" as="fetch" crossorigin>']
    missing: list[str] = []
    # Vendor scripts are not in the head: the page loads MapLibre / ECharts when it draws its
    # map or charts, after its first view is usable (static/lib/lazy.js), so fetching and
    # parsing a megabyte of JavaScript never holds up the first paint or the page's own data.
    if page.maplibre:
        tags.append(
            f'<link rel="stylesheet" href="/static/vendor/maplibre-gl.css?v={v}"'
            ' data-vendor="maplibre">'
        )
        missing += missing_vendor_files()
    if page.echarts and not (VENDOR_DIR / ECHARTS_FILE).is_file():
        missing.append(ECHARTS_FILE)
    tags.append(f'<link rel="modulepreload" href="{page.module}?v={v}">')
    # Imports are plain relative URLs (no version token): preload exactly those URLs.
    deps = module_graph("/static/lib/shell.js") + module_graph(page.module)
    for dep in dict.fromkeys(deps):
        tags.append(f'<link rel="modulepreload" href="{dep}">')
    css = STATIC_DIR / "pages" / f"{page.id}.css"
    if page.built and css.is_file():
        tags.append(f'<link rel="stylesheet" href="/static/pages/{page.id}.css?v={v}">')
    return "\n".join(tags), missing


def render_shell(
    request: Request,
    page: Page,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    mount: Page | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """The shell for ``page``; ``mount`` (default ``page``) is the page whose module runs in it
    (the 403 notice mounts ``forbidden`` inside the page that was refused)."""
    mounted = mount or page
    lang = _page_language(request)
    labels = translations_of(lang)
    v = asset_version()
    head, missing = _head(mounted, v, lang)
    config: dict[str, Any] = {
        "page": mounted.id,
        "path": page.path,
        "url": _request_path(request),
        "title_key": page.title_key,
        "module": f"{mounted.module}?v={v}",
        "lang": lang,
        "languages": list(LANGUAGES),
        "timezone": _timezone(request),
        "user": viewer.as_json() if viewer else None,
        "home": home_for(viewer.role if viewer else None),
        "params": dict(request.path_params),
        "phone": mounted.phone,
        "vendor": {
            "maplibre_js": f"/static/vendor/maplibre-gl.js?v={v}",
            "maplibre_css": f"/static/vendor/maplibre-gl.css?v={v}",
            "echarts_js": f"/static/vendor/{ECHARTS_FILE}?v={v}",
        },
        "missing_vendor": missing,
        "v": v,
        **(extra or {}),
    }
    # The tab shows what is on screen: the refused page's 403 notice is titled 无权访问.
    shown = mounted if mount is not None else page
    title = f"{_t(labels, shown.title_key)} · {_t(labels, 'app.name')}"
    body = render(
        "shell.html",
        raw={
            "head": head,
            "nav": _nav_links(viewer, page, labels),
            "user_block": _user_block(viewer, page, labels),
            "config": _json_script(config),
        },
        lang=lang,
        title=title,
        title_key=shown.title_key,
        page_id=mounted.id,
        layout="phone" if mounted.phone else "desktop",
        brand=_t(labels, "shell.brand"),
        lang_label=_t(labels, "lang.label"),
        v=v,
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


FORBIDDEN: Final = Page("", "forbidden", "page.forbidden", None)


def _request_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def serve_page(request: Request, page: Page) -> Response:
    """Check access and render ``page`` in the shell."""
    viewer = viewer_of(request)
    if page.roles is not None:
        if viewer is None:
            target = quote(_request_path(request), safe="/")
            return RedirectResponse(f"{LOGIN_PATH}?next={target}", status_code=302)
        if not page.allows(viewer.role):
            return render_shell(request, page, viewer, status_code=403, mount=FORBIDDEN)
    extra: dict[str, Any] = {}
    if page.id == "login":
        extra["next"] = safe_next(request.query_params.get("next"))
        extra["homes"] = {role.value: path for role, path in HOME_BY_ROLE.items()}
    return render_shell(request, page, viewer, extra=extra)


def _page_route(page: Page) -> Any:
    def endpoint(request: Request) -> Response:
        return serve_page(request, page)

    endpoint.__name__ = f"page_{page.id}"
    endpoint.__doc__ = f"{page.id} page ({page.path})"
    return endpoint


@router.get("/")
def index(request: Request) -> RedirectResponse:
    """The logged-in user's home page by role, else the login page."""
    viewer = viewer_of(request)
    return RedirectResponse(home_for(viewer.role if viewer else None), status_code=302)


for _page in PAGES:
    if _page.legacy_template is None:
        router.add_api_route(
            _page.path, _page_route(_page), methods=["GET"], response_class=HTMLResponse
        )


@router.get("/i18n/{lang}.json")
def translations(lang: str, request: Request) -> Response:
    """The UI's labels for one language (``zh-CN`` or ``en``): every namespace file of
    ``i18n/<lang>/`` merged into one object; revalidated by ETag."""
    if lang not in LANGUAGES:
        raise NotFound(
            f"no translations for language {lang!r}; available: {', '.join(LANGUAGES)}",
            code="unknown_language",
        )
    _, body, digest = _merged(lang, _stamp(lang))
    etag = f'"{digest}"'
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


def mount(app: FastAPI) -> None:
    """Serve the browser UI from ``app``: pages, ``/static`` and ``/i18n``."""
    app.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
