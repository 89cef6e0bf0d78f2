"""The database-backed rate limiter, on SQLite and PostgreSQL.

Workers are simulated with separate engines (separate pools and connections) on one database,
with threads hitting at the same time, and with real separate processes.
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from gridgov import migrate, ratelimit
from gridgov.db import make_engine
from gridgov.ratelimit import (
    RateLimitCounter,
    RateLimiter,
    _retry_after,
    limiter_engine,
    sidecar_path,
)

T0 = 1_800_000_000.0  # a window boundary: a multiple of 60 (and of 3600)
TABLE = RateLimitCounter.__table__


def _name() -> str:
    """A limiter name of its own per test: the counters commit, so tests must not share keys."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def second_engine(engine: Engine) -> Iterator[Engine]:
    """Another "worker": an engine of its own on the same database file or server."""
    other = make_engine(_url(engine))
    yield other
    other.dispose()


class Clock:
    """An injectable clock (Unix seconds)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_window_and_expiry_with_an_injected_clock(engine: Engine) -> None:
    clock = Clock(T0)
    limiter = RateLimiter(engine, 2, name=_name(), clock=clock)
    assert limiter.hit("ip:a") and limiter.hit("ip:a")
    clock.t = T0 + 2
    refused = limiter.hit("ip:a")
    assert not refused and refused.retry_after == 88  # 58 s to the window's end + 30 s
    assert limiter.hit("ip:b")  # keys are independent
    # The previous window still weighs: at T0 + 89 (29/60 into the next) 2·31/60 + 1 > 2 ...
    clock.t = T0 + 2 + 87
    assert not limiter.hit("ip:a")
    # ... at T0 + 90, exactly Retry-After later, 2·30/60 + 1 = 2 fits.
    clock.t = T0 + 2 + 88
    assert limiter.hit("ip:a")
    # Two windows later nothing of the past counts.
    clock.t = T0 + 180
    assert limiter.hit("ip:a") and limiter.hit("ip:a") and not limiter.hit("ip:a")


def test_refused_hits_are_not_counted(engine: Engine) -> None:
    name = _name()
    limiter = RateLimiter(engine, 3, name=name, clock=Clock(T0))
    decisions = [limiter.hit("user:1", now=T0 + i * 0.1) for i in range(10)]
    assert [d.allowed for d in decisions] == [True] * 3 + [False] * 7
    with engine.connect() as conn:
        counts = conn.execute(select(TABLE.c.count).where(TABLE.c.key == f"{name}:user:1"))
        assert list(counts.scalars()) == [3]
    # One window later only the even spread of those 3 counts: room again after 1/3 of it.
    assert not limiter.hit("user:1", now=T0 + 60 + 19)
    assert limiter.hit("user:1", now=T0 + 60 + 20)


def test_sliding_estimate_blocks_the_burst_at_a_window_edge(engine: Engine) -> None:
    limiter = RateLimiter(engine, 10, name=_name())
    assert all(limiter.hit("k", now=T0 + 59.0) for _ in range(10))
    # A plain fixed window would allow 10 more one second later; the sliding estimate does not.
    later = [limiter.hit("k", now=T0 + 60.5).allowed for _ in range(10)]
    assert later.count(True) == 0


def test_two_engines_share_one_count(engine: Engine, second_engine: Engine) -> None:
    """Two workers (two engines, two pools) on one SQLite file or one PostgreSQL database."""
    name = _name()
    a = RateLimiter(engine, 5, name=name)
    b = RateLimiter(second_engine, 5, name=name)
    results = [(a if i % 2 else b).hit("ip:10.0.0.1", now=T0 + i).allowed for i in range(8)]
    assert results == [True] * 5 + [False] * 3
    later = [(b if i % 2 else a).hit("ip:10.0.0.1", now=T0 + 120 + i).allowed for i in range(6)]
    assert later == [True] * 5 + [False]


def test_concurrent_workers_never_let_more_than_the_limit_through(
    engine: Engine, second_engine: Engine
) -> None:
    name, limit = _name(), 17
    limiters = [RateLimiter(e, limit, name=name) for e in (engine, second_engine)]
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(i: int) -> None:
        limiter = limiters[i % 2]
        start.wait()
        for _ in range(6):
            ok = limiter.hit("ip:shared", now=T0 + 1).allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 48 and allowed.count(True) == limit


_WORKER = textwrap.dedent(
    """
    import sys
    from gridgov.db import make_engine
    from gridgov.ratelimit import RateLimiter

    url, name, limit, now, n = sys.argv[1:6]
    limiter = RateLimiter(make_engine(url), int(limit), name=name)
    sys.stdin.readline()  # start together
    print(sum(limiter.hit("ip:198.51.100.7", now=float(now)).allowed for _ in range(int(n))))
    """
)


def test_separate_processes_share_one_count(engine: Engine) -> None:
    """Three real worker processes hammering one key at the same moment."""
    name, limit = _name(), 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, _url(engine), name, str(limit), str(T0 + 5), "20"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        for _ in range(3)
    ]
    time.sleep(0.5)
    outs = [p.communicate("go\n", timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert sum(int(out) for out, _ in outs) == limit


def test_pruning_drops_only_this_limiters_old_windows(engine: Engine) -> None:
    name, hourly = _name(), _name()
    minute = RateLimiter(engine, 5, name=name)
    hour = RateLimiter(engine, 5, name=hourly, window_seconds=3600)
    assert hour.hit("k", now=T0)

    def rows() -> list[tuple[str, int]]:
        with engine.connect() as conn:
            found = conn.execute(
                select(TABLE.c.key, TABLE.c.window_start).where(
                    TABLE.c.key.in_([f"{name}:k", f"{hourly}:k"])
                )
            )
            return sorted((k, int(w)) for k, w in found)

    for i in range(4):
        assert minute.hit("k", now=T0 + 60 * i)
    # Each new window pruned the one before the previous; the hourly window started at T0
    # survives the per-minute limiter's pruning.
    assert rows() == sorted(
        [(f"{name}:k", int(T0) + 120), (f"{name}:k", int(T0) + 180), (f"{hourly}:k", int(T0))]
    )
    assert minute.prune(now=T0 + 600) == 2
    assert rows() == [(f"{hourly}:k", int(T0))]


def test_pruning_happens_by_itself_once_a_window(engine: Engine) -> None:
    name = _name()
    limiter = RateLimiter(engine, 5, name=name)
    for i in range(5):
        limiter.hit(f"ip:{i}", now=T0)
    limiter.hit("ip:x", now=T0 + 300)  # a hit much later prunes the old windows on its way
    with engine.connect() as conn:
        keys = conn.execute(select(TABLE.c.key).where(TABLE.c.key.startswith(f"{name}:"))).scalars()
        assert list(keys) == [f"{name}:ip:x"]


def test_long_keys_are_hashed_and_names_checked(engine: Engine) -> None:
    limiter = RateLimiter(engine, 1, name="media-upload")
    long_key = "ip:" + "f" * 300
    stored = limiter.key(long_key)
    assert len(stored) <= ratelimit.KEY_MAX and stored.startswith("media-upload:#")
    assert limiter.key("ip:1") == "media-upload:ip:1"
    for bad in ("", "Upper", "a:b", "x" * 41, "%"):
        with pytest.raises(ValueError):
            RateLimiter(engine, 1, name=bad)
    with pytest.raises(ValueError):
        RateLimiter(engine, 0)


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 20])
def test_retry_after_is_the_first_second_that_fits(engine: Engine, limit: int) -> None:
    """After every refusal, one second before Retry-After is still refused and Retry-After fits
    (a probe that is refused changes nothing, so the same key can be probed)."""
    rng = random.Random(limit)
    limiter = RateLimiter(engine, limit, name=_name())
    t = T0 + rng.uniform(0, 60)
    refusals = 0
    while refusals < 6:
        d = limiter.hit("k", now=t)
        if d.allowed:
            t += rng.uniform(0, 5)
            continue
        refusals += 1
        assert d.retry_after >= 1
        if d.retry_after > 1:
            assert not limiter.hit("k", now=t + d.retry_after - 1)
        assert limiter.hit("k", now=t + d.retry_after)
        t += d.retry_after + rng.uniform(0, 2)


def test_retry_after_formula() -> None:
    assert _retry_after(prev=0, cur=2, limit=2, into=2, window=60) == 88
    assert _retry_after(prev=0, cur=1, limit=1, into=0, window=60) == 120
    assert _retry_after(prev=4, cur=0, limit=2, into=10, window=60) == 35  # 4·(1-f) + 1 ≤ 2
    assert _retry_after(prev=0, cur=20, limit=20, into=59.5, window=60) == 4  # 0.5 + 3


def test_limiter_engine_has_a_pool_of_its_own(engine: Engine) -> None:
    own = limiter_engine(engine)
    assert own is not engine and limiter_engine(engine) is own
    if engine.dialect.name == "sqlite":
        assert engine.url.database and own.url.database
        assert Path(own.url.database) == Path(engine.url.database).with_name("gridgov.ratelimit.db")
        assert RateLimiter(own, 1, name=_name()).hit("k")  # the sidecar has the table
    else:
        assert own.url == engine.url
    memory = make_engine("sqlite://")
    assert limiter_engine(memory) is memory


def test_sidecar_path() -> None:
    assert sidecar_path("/srv/gridgov-data/gridgov.db") == Path(
        "/srv/gridgov-data/gridgov.ratelimit.db"
    )
    assert sidecar_path("data/city") == Path("data/city.ratelimit.db")


def _sqlite_app(tmp_path: Path) -> Engine:
    app_engine = make_engine(f"sqlite:///{tmp_path / 'gridgov.db'}")
    migrate.upgrade(app_engine)
    return app_engine


def test_request_holding_sqlite_write_lock_does_not_block_the_limiter(tmp_path: Path) -> None:
    """A request's write session takes SQLite's lock when it begins (BEGIN IMMEDIATE); the
    limiter, called inside that request, counts in its sidecar file without waiting, and the
    count survives the request's rollback."""
    app_engine = _sqlite_app(tmp_path)
    limiter = RateLimiter(limiter_engine(app_engine), 2, name=_name())
    with app_engine.connect() as request_conn:
        request_conn.begin()  # BEGIN IMMEDIATE: the app database is now locked for writers
        request_conn.execute(text("UPDATE rate_limit_counter SET count = count"))
        started = time.monotonic()
        decisions = [limiter.hit("ip:1", now=T0).allowed for _ in range(3)]
        elapsed = time.monotonic() - started
        request_conn.rollback()
    assert decisions == [True, True, False] and elapsed < 1.0
    assert not limiter.hit("ip:1", now=T0 + 1)  # still counted after the rollback


def test_sqlite_lock_lets_the_hit_through_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the counter file itself stays locked (a stuck process), the limiter gives up after
    SQLITE_LOCK_WAIT_MS and lets the hit through with a warning, instead of hanging."""
    monkeypatch.setattr(ratelimit, "SQLITE_LOCK_WAIT_MS", 200)
    own = limiter_engine(_sqlite_app(tmp_path))
    limiter = RateLimiter(own, 1, name=_name())
    assert limiter.hit("k", now=T0)
    stuck = make_engine(own.url.render_as_string(hide_password=False))
    with stuck.connect() as holder:
        holder.begin()  # BEGIN IMMEDIATE on the counter file
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="gridgov.ratelimit"):
            decision = limiter.hit("k", now=T0 + 1)  # over the limit, but the lock is taken
        elapsed = time.monotonic() - started
        holder.rollback()
    stuck.dispose()
    assert decision.allowed and elapsed < 2.0
    assert "database locked" in caplog.text
    assert not limiter.hit("k", now=T0 + 2)  # the lock is free again: counted as usual
