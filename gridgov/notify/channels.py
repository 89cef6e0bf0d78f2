"""Delivery channels: log (the default), an SMS gateway and a signed webhook.

A channel is anything with a ``name`` and a ``send(notification)`` that returns on success and
raises :class:`DeliveryError` on failure (:class:`PermanentDeliveryError` when a retry cannot
help). Channels are looked up by the name stored on each row, in a plain ``dict`` built by
:func:`channels_from_settings`; a deployment plugs its own in with :func:`register`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from gridgov.config import Settings
from gridgov.notify.models import Notification, RecipientKind

log = logging.getLogger("gridgov.notify")

SIGNATURE_HEADER = "X-Gridgov-Signature"
EVENT_HEADER = "X-Gridgov-Event"
DELIVERY_HEADER = "X-Gridgov-Delivery"


class DeliveryError(Exception):
    """The channel could not deliver; the worker retries later."""


class PermanentDeliveryError(DeliveryError):
    """The message can never be delivered as it is (e.g. SMS to something not a phone)."""


class Channel(Protocol):
    """What the worker needs from a channel."""

    name: str

    def send(self, notification: Notification) -> None:
        """Deliver or raise :class:`DeliveryError`."""
        ...


ChannelRegistry = Mapping[str, Channel]


def message_json(notification: Notification) -> dict[str, Any]:
    """The JSON document a remote channel receives for a notification."""
    return {
        "id": notification.id,
        "kind": notification.kind,
        "recipient": {"kind": notification.recipient_kind.value, "address": notification.recipient},
        "subject": notification.subject,
        "body": notification.body,
        "payload": notification.payload,
        "dedupe_key": notification.dedupe_key,
        "created_at": notification.created_at.isoformat(),
    }


class LogChannel:
    """Writes the message to the ``gridgov.notify`` log and always succeeds (the default)."""

    name = "log"

    def send(self, notification: Notification) -> None:
        log.info(
            "notify %s to %s:%s — %s | %s",
            notification.kind,
            notification.recipient_kind.value,
            notification.recipient,
            notification.subject,
            notification.body,
        )


def _post(client: httpx.Client, url: str, *, content: bytes, headers: dict[str, str]) -> None:
    try:
        response = client.post(url, content=content, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")


class SmsGatewayChannel:
    """POSTs ``{"to", "content", "id"}`` as JSON to an SMS gateway with a bearer token.

    Only phone recipients can be texted; resolving a user or department to a phone number is the
    caller's job when it enqueues (a wrong kind is a permanent error, not retried).
    """

    name = "sms"

    def __init__(
        self, url: str, token: str, *, timeout: float = 5.0, client: httpx.Client | None = None
    ) -> None:
        self.url = url
        self.token = token
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout))

    def send(self, notification: Notification) -> None:
        if notification.recipient_kind is not RecipientKind.PHONE:
            raise PermanentDeliveryError(
                f"sms needs a phone recipient, got {notification.recipient_kind.value}"
            )
        doc = {
            "to": notification.recipient,
            "content": f"{notification.subject}{notification.body}",
            "id": notification.dedupe_key,
        }
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        content = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        _post(self.client, self.url, content=content, headers=headers)


def sign(secret: str, body: bytes) -> str:
    """The webhook signature header value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True if ``header`` is the signature of ``body`` under ``secret`` (constant-time)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class WebhookChannel:
    """POSTs :func:`message_json` with an HMAC-SHA256 signature of the raw body in a header."""

    name = "webhook"

    def __init__(
        self, url: str, secret: str, *, timeout: float = 5.0, client: httpx.Client | None = None
    ) -> None:
        if not secret:
            raise ValueError("a webhook channel needs a signing secret")
        self.url = url
        self.secret = secret
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout))

    def send(self, notification: Notification) -> None:
        body = json.dumps(message_json(notification), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            EVENT_HEADER: notification.kind,
            DELIVERY_HEADER: notification.dedupe_key,
        }
        _post(self.client, self.url, content=body, headers=headers)


def register(channels: dict[str, Channel], channel: Channel) -> dict[str, Channel]:
    """Add (or replace) a channel under its name; returns the same dict."""
    channels[channel.name] = channel
    return channels


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The channel registry: ``log`` always; ``sms`` and ``webhook`` when their URL is set."""
    channels: dict[str, Channel] = {}
    register(channels, LogChannel())
    timeout = settings.notify_timeout_seconds
    if settings.notify_sms_url:
        register(
            channels,
            SmsGatewayChannel(settings.notify_sms_url, settings.notify_sms_token, timeout=timeout),
        )
    if settings.notify_webhook_url:
        register(
            channels,
            WebhookChannel(
                settings.notify_webhook_url, settings.notify_webhook_secret, timeout=timeout
            ),
        )
    return channels
