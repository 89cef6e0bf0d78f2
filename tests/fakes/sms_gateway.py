"""A fake SMS gateway: accepts ``POST /send`` with a bearer token and records each message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import FakeServer


@dataclass(frozen=True)
class Sms:
    to: str
    content: str
    id: str


class FakeSmsGateway(FakeServer):
    """Records accepted messages in ``messages``; ``fail_next(n)`` answers the next n with 500."""

    def __init__(self, token: str = "sms-token") -> None:
        super().__init__()
        self.token = token
        self.messages: list[Sms] = []
        self.requests = 0
        self._failures: list[int] = []

    @property
    def send_url(self) -> str:
        return f"{self.url}/send"

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        with self._lock:
            self.requests += 1
            if self._failures:
                return self._failures.pop(0), '{"error": "gateway unavailable"}'
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, '{"error": "bad token"}'
        doc: dict[str, Any] = json.loads(body)
        with self._lock:
            self.messages.append(Sms(to=doc["to"], content=doc["content"], id=doc["id"]))
        return 200, '{"status": "queued"}'
