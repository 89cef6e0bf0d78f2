"""Checks that keep the code honest: migrations match the models; domains stay layered."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gridgov import migrate

PACKAGE = Path(__file__).resolve().parents[2] / "gridgov"
# codes, geo and the working calendar are the bottom layer: they import no domain package.
BOTTOM = ("codes", "geo", "workcalendar")
DOMAINS = ("regions", "roads", "registry", "gazetteer", "accounts", "demo", "web", "cases")


def test_models_and_migrations_agree(engine: Engine) -> None:
    migrate.check(engine)  # raises if autogenerate would produce a migration


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("layer", BOTTOM)
def test_bottom_layers_import_no_domain(layer: str) -> None:
    offenders = []
    for path in (PACKAGE / layer).rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "gridgov" and len(parts) > 1 and parts[1] in DOMAINS:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []
