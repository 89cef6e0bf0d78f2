"""The intake benchmark's two load shapes against a real HTTP server with a known service time:
closed loop (each client sends again when answered) and open loop (each client on a fixed
schedule, latency counted from when a request was due, so a slow server is not flattered)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gridgov.benchmarks.intake import LoadResult, _drive, _drive_paced, free_port


def _server(service_s: float) -> Starlette:
    async def create(request: Request) -> JSONResponse:
        await request.json()
        await asyncio.sleep(service_s)
        return JSONResponse({"ok": True}, status_code=201)

    return Starlette(routes=[Route("/create", create, methods=["POST"])])


@pytest.fixture
def serve() -> Iterator[Callable[[float], str]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(service_s: float) -> str:
        port = free_port()
        config = uvicorn.Config(_server(service_s), host="127.0.0.1", port=port, log_level="error")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


BODIES = [({}, {"n": i}) for i in range(2)]


def _run(load: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    """Run a load on an event loop of its own thread: the test process may hold a running loop
    already (Playwright's, from a browser test in the same worker)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, load).result()


def test_closed_loop_latency_is_the_service_time(serve: Callable[[float], str]) -> None:
    base = serve(0.2)
    result = _run(_drive(base, "/create", BODIES, seconds=1.3, warmup=0.0))
    assert result.errors == 0
    assert 4 <= result.ok <= 12  # 2 clients × up to 6 answers of 0.2 s inside 1.3 s
    assert all(190 <= ms < 1000 for ms in result.latencies_ms)  # no backlog: each its own wait


def test_paced_load_offers_its_rate_and_keeps_a_slow_servers_backlog(
    serve: Callable[[float], str],
) -> None:
    fast = _run(_drive_paced(serve(0.01), "/create", BODIES, 10.0, 0.95, 0.0))
    assert (fast.ok, fast.errors) == (10, 0)  # due at 0.0, 0.1 … 0.9 s, each answered
    assert max(fast.latencies_ms) < 250

    # 0.3 s per answer, while each client is due every 0.2 s: every request starts 0.1 s later
    # than the one before it did, and that wait counts (0.3, 0.4 … 0.7 s for due 0 … 0.8 s).
    slow = _run(_drive_paced(serve(0.3), "/create", BODIES, 10.0, 0.95, 0.0))
    assert (slow.ok, slow.errors) == (10, 0)  # due in the window: all waited for
    assert max(slow.latencies_ms) >= 650
    assert sorted(slow.latencies_ms)[0] >= 290
