"""The page routes without a browser: redirect, the not-built notice, translations.

These run in the normal suite (no ``e2e`` mark): they need neither Chromium nor the vendor build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import make_engine
from gridgov.web import pages

WEB = Path(pages.__file__).parent


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, environment="test")
    engine = make_engine(settings.db_url)
    try:
        with TestClient(create_app(settings, engine)) as c:
            yield c
    finally:
        engine.dispose()


def test_root_redirects_to_map(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/map"


def test_map_page_references_vendor_and_module(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "missing_vendor_files", list)
    r = client.get("/map")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "/static/vendor/maplibre-gl.js?v=" in r.text
    assert '<script type="module" src="/static/map.js?v=' in r.text
    assert "<title>网格化城市治理平台 · 网格地图</title>" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing from elsewhere


def test_map_page_says_when_front_end_is_not_built(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pages, "VENDOR_DIR", tmp_path / "no-vendor")
    r = client.get("/map")
    assert r.status_code == 503
    assert "前端未构建" in r.text and "Front-end not built" in r.text
    assert pages.BUILD_COMMAND.replace("&", "&amp;") in r.text
    assert "gridgov/web/static/vendor/maplibre-gl.js" in r.text


def test_static_files_are_served(client: TestClient) -> None:
    r = client.get("/static/map.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_translations_are_served(client: TestClient, lang: str) -> None:
    r = client.get(f"/i18n/{lang}.json")
    assert r.status_code == 200
    assert r.json()["layer.grid"] == {"zh-CN": "单元网格", "en": "Unit grids"}[lang]


def test_unknown_language_is_a_json_404(client: TestClient) -> None:
    r = client.get("/i18n/fr.json")
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_language"
    assert "zh-CN" in r.json()["message"]


def _labels(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((WEB / "i18n" / f"{lang}.json").read_text("utf-8"))
    return data


def test_both_languages_have_the_same_keys() -> None:
    assert set(_labels("zh-CN")) == set(_labels("en"))


def test_every_label_key_used_by_the_page_exists() -> None:
    """Keys written literally in the template and the scripts are all translated."""
    template = (WEB / "templates" / "map.html").read_text("utf-8")
    used = set(re.findall(r'data-i18n(?:-[a-z-]+)?="([\w.]+)"', template))
    for script in [WEB / "static" / "map.js", *(WEB / "static" / "lib").glob("*.js")]:
        used |= set(re.findall(r'\bt\("([\w.]+)"', script.read_text("utf-8")))
    missing = used - set(_labels("zh-CN"))
    assert not missing, f"label keys without a translation: {sorted(missing)}"
    assert len(used) > 30
