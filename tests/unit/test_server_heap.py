"""A server worker takes its loaded app out of the cyclic garbage collector's way once built,
so a full collection walks only what requests create, not the whole app (100 ms pauses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc
import gridgov.asgi
frozen = gc.get_freeze_count()
gc.collect(2)  # what a full collection still walks
print(frozen, len(gc.get_objects()))
"""


def test_the_asgi_entry_point_freezes_the_built_app(tmp_path: Path) -> None:
    env = os.environ | {
        "GRIDGOV_DATA_DIR": str(tmp_path),
        "GRIDGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'heap.db'}",
        "GRIDGOV_ENVIRONMENT": "test",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, tracked = int(out[0]), int(out[1])
    assert frozen > 100_000  # the app: mappers, models, routes
    assert tracked < frozen / 10
