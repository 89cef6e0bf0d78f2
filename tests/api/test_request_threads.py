"""The worker's thread pool for sync endpoints is sized by the ``request_threads`` setting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from anyio import to_thread
from fastapi.testclient import TestClient

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import make_engine


def test_sync_endpoints_run_at_most_request_threads_at_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app(Settings(data_dir=tmp_path, environment="test", request_threads=2), engine)
    running, peak, lock = [0], [0], threading.Lock()

    @app.get("/test/slow")
    def _slow() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1

    async def tokens() -> float:
        return to_thread.current_default_thread_limiter().total_tokens

    with TestClient(app) as client:
        assert client.portal is not None
        assert client.portal.call(tokens) == 2
        callers = [threading.Thread(target=client.get, args=("/test/slow",)) for _ in range(6)]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
    engine.dispose()
    assert peak[0] == 2
