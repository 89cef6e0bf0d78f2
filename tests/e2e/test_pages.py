"""The page routes without a browser: the page table, login redirects, roles, ``next``,
the not-built notice and the translations (merge, same keys in both languages, every key used
exists).

These run in the normal suite (no ``e2e`` mark): they need neither Chromium nor the vendor build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from gridgov import migrate
from gridgov.accounts import passwords
from gridgov.accounts.models import Role
from gridgov.accounts.service import create_user
from gridgov.app import create_app
from gridgov.cases.states import Action, Channel, ItemClass, State, Step, SupervisionLevel
from gridgov.config import Settings
from gridgov.db import make_engine, session_scope
from gridgov.taxonomy.models import Urgency
from gridgov.web import pages

WEB = Path(pages.__file__).parent
I18N = WEB / "i18n"
PASSWORD = "page-test-password"
#: Namespaces that predate the split keep their old key names; new ones use their prefix.
LEGACY_NAMESPACES = {"common", "map"}
PREFIXES = {"mobile": ("mobile.",), "resident": ("resident.",)}


@pytest.fixture(scope="module")
def app_and_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("pages")
    settings = Settings(data_dir=tmp, environment="test")
    engine = make_engine(settings.db_url)
    migrate.upgrade(engine)
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        with session_scope(engine) as s:
            for role in Role:  # no jurisdictions: the pages do not look at them
                create_user(
                    s,
                    f"u_{role.value}",
                    "张<三>" if role is Role.ACCEPTOR else f"{role.value} user",
                    role,
                    PASSWORD,
                    department_code="QCGZFJ" if role is Role.DEPARTMENT else None,
                )
    finally:
        passwords.use_hasher(previous)
    yield create_app(settings, engine)
    engine.dispose()


@pytest.fixture
def client(app_and_users: Any) -> Iterator[TestClient]:
    with TestClient(app_and_users) as c:
        yield c


_tokens: dict[Role, str] = {}


def _login(client: TestClient, role: Role) -> None:
    """Log in as the role's user (once per module: argon2 is slow on purpose)."""
    if role not in _tokens:
        body = {"username": f"u_{role.value}", "password": PASSWORD}
        r = client.post("/api/auth/login", json=body)
        assert r.status_code == 200, r.text
        _tokens[role] = r.json()["token"]
    client.cookies.set("gridgov_session", _tokens[role])


def _config(html_text: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="gridgov-config">(.*?)</script>', html_text)
    assert m, "no page config in the shell"
    data: dict[str, Any] = json.loads(m.group(1))
    return data


# ---- redirects and roles --------------------------------------------------------------------


def test_root_goes_to_login_when_logged_out(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login"


@pytest.mark.parametrize("role", list(Role))
def test_root_goes_to_the_role_home(client: TestClient, role: Role) -> None:
    _login(client, role)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == pages.HOME_BY_ROLE[role]


@pytest.mark.parametrize("path", ["/supervision", "/case/2026120300001", "/admin", "/m"])
def test_staff_pages_send_a_logged_out_user_to_login(client: TestClient, path: str) -> None:
    r = client.get(f"{path}?queue=open", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == f"/login?next={path}%3Fqueue%3Dopen"


def test_an_expired_or_unknown_session_is_no_session(client: TestClient) -> None:
    client.cookies.set("gridgov_session", "not-a-live-token")
    r = client.get("/supervision", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login?next=/supervision"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/report").status_code == 200  # public pages just show no user


def _page_cases() -> list[tuple[str, Role, bool]]:
    out = []
    for page in pages.PAGES:
        if page.roles is None or page.legacy_template:
            continue
        path = page.path.replace("{case_no}", "2026120300001")
        out += [(path, role, role in page.roles) for role in Role]
    return out


@pytest.mark.parametrize(("path", "role", "allowed"), _page_cases())
def test_roles_open_their_pages_and_get_403_elsewhere(
    client: TestClient, path: str, role: Role, allowed: bool
) -> None:
    _login(client, role)
    r = client.get(path, follow_redirects=False)
    config = _config(r.text)
    if allowed:
        assert r.status_code == 200
        assert config["page"] != "forbidden"
    else:
        assert r.status_code == 403
        assert config["page"] == "forbidden"
        assert config["module"].startswith("/static/pages/forbidden.js?v=")
        assert "无权访问 · 网格化城市治理平台" in r.text
    assert config["user"]["role"] == role.value
    assert config["home"] == pages.HOME_BY_ROLE[role]


def test_public_pages_need_no_login(client: TestClient) -> None:
    for path in ("/login", "/report", "/track"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 200, path
        assert _config(r.text)["user"] is None


def test_every_page_module_exists_or_is_the_placeholder(client: TestClient) -> None:
    for page in pages.PAGES:
        if page.legacy_template:
            continue
        module = WEB / page.module.removeprefix("/")
        assert module.is_file(), module
        if not page.module_file.is_file():
            assert page.module == "/static/pages/placeholder.js"
    for name in ("placeholder", "forbidden", "login", "supervision", "case"):
        assert (WEB / "static" / "pages" / f"{name}.js").is_file()


def test_shell_shows_nav_for_the_role_user_and_escapes(client: TestClient) -> None:
    _login(client, Role.ACCEPTOR)
    r = client.get("/supervision")
    assert r.status_code == 200
    nav = re.search(r'<nav class="nav".*?</nav>', r.text, re.S)
    assert nav
    links = re.findall(r'data-page-link="(\w+)"', nav.group(0))
    assert links == ["supervision", "map"]
    assert 'aria-current="page"' in nav.group(0)
    assert "张&lt;三&gt;" in r.text and "张<三>" not in r.text
    config = _config(r.text)
    assert config["user"]["name"] == "张<三>"  # JSON-escaped inside the script, intact when read
    assert "\\u003c" in r.text
    assert "/static/pages/supervision.css?v=" in r.text
    # Its whole module graph is preloaded (no import waterfall), and the labels too.
    assert '<link rel="modulepreload" href="/static/lib/case_view.js">' in r.text
    assert '<link rel="preload" href="/i18n/zh-CN.json" as="fetch" crossorigin>' in r.text
    assert '<script src="/static/vendor/maplibre-gl.js' not in r.text  # loaded on demand
    assert config["timezone"] == "Asia/Shanghai"
    assert "http://" not in r.text and "https://" not in r.text


def test_case_page_preloads_maplibre_and_passes_the_case_no(client: TestClient) -> None:
    _login(client, Role.SHIFT_LEAD)
    r = client.get("/case/2026120300042")
    assert r.status_code == 200
    assert "/static/vendor/maplibre-gl.js?v=" in r.text
    assert _config(r.text)["params"] == {"case_no": "2026120300042"}


def test_language_cookie_renders_the_shell_in_english(client: TestClient) -> None:
    client.cookies.set(pages.LANG_COOKIE, "en")
    r = client.get("/login")
    assert '<html lang="en">' in r.text
    assert "<title>Log in · gridgov · Grid governance</title>" in r.text
    client.cookies.set(pages.LANG_COOKIE, "fr")
    assert '<html lang="zh-CN">' in client.get("/login").text


# ---- next= ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "//evil.example/x",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example/path",
        "/login",
        "/login?next=/login",
        "/ok\r\nSet-Cookie: x=1",
        "",
        "/" + "a" * 2100,
    ],
)
def test_next_rejects_anything_but_a_path_on_this_site(client: TestClient, value: str) -> None:
    assert pages.safe_next(value) is None
    r = client.get("/login", params={"next": value})
    assert r.status_code == 200
    assert _config(r.text)["next"] is None


@pytest.mark.parametrize("value", ["/supervision", "/case/2026120300001?x=1#y", "/m", "/"])
def test_next_accepts_same_site_paths(client: TestClient, value: str) -> None:
    assert pages.safe_next(value) == value
    assert _config(client.get("/login", params={"next": value}).text)["next"] == value


# ---- the map page (in the shell) ------------------------------------------------------------


def test_map_page_references_vendor_and_module(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "missing_vendor_files", list)
    r = client.get("/map")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "/static/vendor/maplibre-gl.css?v=" in r.text  # the script loads on demand
    assert _config(r.text)["module"].startswith("/static/pages/map.js?v=")
    assert '<link rel="modulepreload" href="/static/pages/map_components.js">' in r.text
    assert "<title>网格地图 · 网格化城市治理平台</title>" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing from elsewhere


def test_map_page_says_when_front_end_is_not_built(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pages, "VENDOR_DIR", tmp_path / "no-vendor")
    r = client.get("/map")
    assert r.status_code == 200  # the shell says so in a toast (shell.vendor_missing)
    assert _config(r.text)["missing_vendor"] == ["maplibre-gl.js", "maplibre-gl.css"]


def test_static_files_are_served(client: TestClient) -> None:
    for path in ("/static/pages/map.js", "/static/lib/shell.js", "/static/pages/supervision.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "javascript" in r.headers["content-type"]
        assert r.headers["cache-control"] == "no-cache"


def test_vendor_scripts_go_out_gzipped_once(client: TestClient) -> None:
    """A megabyte of MapLibre is compressed once and kept, not gzipped for every browser; it
    revalidates like any static file and is sent plain to a client that takes no gzip."""
    vendor = pages.VENDOR_DIR / "maplibre-gl.js"
    if not vendor.is_file():
        pytest.skip("front-end not built")
    url = "/static/vendor/maplibre-gl.js?v=x"
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert r.content == vendor.read_bytes()  # httpx decompressed it
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "public, max-age=86400"
    again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == vendor.read_bytes()


# ---- translations ---------------------------------------------------------------------------


def _namespaces(lang: str) -> dict[str, dict[str, str]]:
    return pages.namespaces(lang)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_translations_are_merged_and_served(client: TestClient, lang: str) -> None:
    r = client.get(f"/i18n/{lang}.json")
    assert r.status_code == 200
    labels = r.json()
    assert labels["layer.grid"] == {"zh-CN": "单元网格", "en": "Unit grids"}[lang]  # map.json
    assert labels["state.reported"] == {"zh-CN": "上报", "en": "Reported"}[lang]  # common.json
    assert labels["supervision.queue.reported"] == {"zh-CN": "待受理", "en": "To accept"}[lang]
    merged: dict[str, str] = {}
    for ns in _namespaces(lang).values():
        merged.update(ns)
    assert labels == merged
    again = client.get(f"/i18n/{lang}.json", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_unknown_language_is_a_json_404(client: TestClient) -> None:
    r = client.get("/i18n/fr.json")
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_language"
    assert "zh-CN" in r.json()["message"]


def test_both_languages_have_the_same_namespaces_and_keys() -> None:
    zh, en = _namespaces("zh-CN"), _namespaces("en")
    assert set(zh) == set(en)
    for name in zh:
        assert set(zh[name]) == set(en[name]), name
    expected = {"common", "map", "login", "case", "supervision", "command", "department"}
    expected |= {"mobile", "resident", "leader", "admin"}
    assert expected <= set(zh)


def test_no_key_is_in_two_namespaces_and_new_ones_use_their_prefix() -> None:
    seen: dict[str, str] = {}
    for name, labels in _namespaces("zh-CN").items():
        for key in labels:
            assert key not in seen, f"{key} is in both {seen[key]}.json and {name}.json"
            seen[key] = name
            if name not in LEGACY_NAMESPACES:
                assert key.startswith(PREFIXES.get(name, (f"{name}.",))), (name, key)
            assert labels[key].strip(), (name, key)


def test_every_enum_value_has_a_label() -> None:
    common = _namespaces("zh-CN")["common"]
    enums: list[tuple[str, Any]] = [
        ("state", State),
        ("action", Action),
        ("channel", Channel),
        ("item_class", ItemClass),
        ("step", Step),
        ("supervision_level", SupervisionLevel),
        ("urgency", Urgency),
        ("role", Role),
    ]
    wanted = [f"{p}.{v.value}" for p, enum in enums for v in enum]
    wanted += [f"light.{x}" for x in ("green", "yellow", "red", "none")]
    wanted += [p.title_key for p in pages.PAGES]
    missing = [key for key in wanted if key not in common]
    assert not missing, f"labels missing from common.json: {missing}"


_KEY = r"([a-z_]+(?:\.[a-z_0-9]+)+)"
_TEMPLATE_KEY = re.compile(r'data-i18n(?:-[a-z-]+)?="' + _KEY + '"')
_LITERAL = re.compile(r'["\'`]' + _KEY + r'["\'`]')


def _used_keys() -> set[str]:
    """Grep-style: data-i18n* attributes in the templates, and every string literal in the
    scripts that looks like a label key of a known namespace prefix (state., case., form. …)."""
    prefixes = {key.split(".")[0] for key in pages.translations_of("zh-CN")}
    used: set[str] = set()
    for path in (WEB / "templates").glob("*.html"):
        used |= set(_TEMPLATE_KEY.findall(path.read_text("utf-8")))
    scripts = [*(WEB / "static" / "lib").glob("*.js")]
    scripts += (WEB / "static" / "pages").rglob("*.js")
    for path in scripts:
        for key in _LITERAL.findall(path.read_text("utf-8")):
            if key.split(".")[0] in prefixes:
                used.add(key)
    return used


def test_every_label_key_used_by_templates_and_modules_exists() -> None:
    """Keys written literally (data-i18n*, t("…"), field("…"), labelKey: "…") all exist in
    both languages; keys built from values (state.${s}) are covered by the enum test."""
    used = _used_keys()
    for lang in ("zh-CN", "en"):
        known = set(pages.translations_of(lang))
        missing = used - known
        assert not missing, f"{lang}: label keys without a translation: {sorted(missing)}"
    assert len(used) > 150
