"""A fake webhook receiver that checks the HMAC-SHA256 signature the way a subscriber would."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import FakeServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeWebhookReceiver(FakeServer):
    """Records every delivery with whether its signature was valid; refuses bad ones with 401.

    The check is written here independently of gridgov's own ``sign``, as a subscriber would.
    """

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.deliveries: list[Delivery] = []

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        given = headers.get("X-Gridgov-Signature", "")
        ok = hmac.compare_digest(expected, given)
        with self._lock:
            self.deliveries.append(Delivery(headers=headers, body=body, verified=ok))
        return (200, '{"ok": true}') if ok else (401, '{"error": "bad signature"}')
