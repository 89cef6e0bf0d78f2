"""HTTP API of photos (照片): upload, original and thumbnail.

Staff, residents and anonymous reporters upload; residents and anonymous clients are rate
limited (per resident, or per IP address). Ids are 64 hex digits (the SHA-256 of the upload)
and are checked before any path is built. Photos are served by id to anyone who has it: the id
cannot be guessed, and the case pages show them with plain ``<img>`` tags.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile
from pydantic import BaseModel

from gridgov.accounts.models import Role
from gridgov.config import Settings
from gridgov.deps import OptionalUser, SettingsDep
from gridgov.errors import NotFound
from gridgov.media.checks import TooManyRequests, check_image, check_size, valid_id
from gridgov.media.storage import StoredMedia, Variant, storage_for

router = APIRouter(tags=["media"])

_WINDOW_SECONDS = 60.0


class MediaRead(BaseModel):
    """A stored photo: its id (use it in a case's ``photos``), where to get it and its size."""

    id: str
    url: str
    thumb_url: str
    width: int
    height: int
    bytes: int


class RateLimiter:
    """At most ``limit`` events per key in any 60-second window (in memory, per process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count one event; False when the key is over its limit (the event is not counted)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= t - _WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(t)
            if len(self._hits) > 10_000:  # forget idle keys now and then
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True


def _limiter(request: Request, settings: Settings) -> RateLimiter:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "media_rate_limiter", None)
    if limiter is None or limiter.limit != settings.media_public_per_minute:
        limiter = RateLimiter(settings.media_public_per_minute)
        state.media_rate_limiter = limiter
    return limiter


def _media_read(
    request: Request, item: StoredMedia, data: int, width: int, height: int
) -> MediaRead:
    return MediaRead(
        id=item.id,
        url=request.url_for("get_media", media_id=item.id).path,
        thumb_url=request.url_for("get_media_thumb", media_id=item.id).path,
        width=width,
        height=height,
        bytes=data,
    )


@router.post("/media", status_code=201, response_model=MediaRead)
def upload_media(
    request: Request,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP photo")],
    user: OptionalUser,
    settings: SettingsDep,
) -> MediaRead:
    """Upload a photo. Checked by content (JPEG, PNG or WebP that decodes completely) and size
    (``media_max_bytes``, 413); a file that is not such an image is a 422 naming the problem.
    The same photo uploaded twice is stored once and gets the same id."""
    if user is None or user.role is Role.RESIDENT:
        client = request.client.host if request.client else "unknown"
        key = f"ip:{client}" if user is None else f"user:{user.id}"
        if not _limiter(request, settings).hit(key):
            raise TooManyRequests(
                f"too many uploads; at most {settings.media_public_per_minute} a minute",
            )
    data = file.file.read(settings.media_max_bytes + 1)  # sync route: runs in a worker thread
    check_size(len(data), settings.media_max_bytes)
    checked = check_image(data, max_bytes=settings.media_max_bytes)
    item = storage_for(settings).put(
        checked.id, checked.ext, checked.data, checked.thumb, now=datetime.now(UTC)
    )
    return _media_read(request, item, len(checked.data), checked.width, checked.height)


def _serve(settings: Settings, media_id: str, variant: Variant) -> Response:
    if not valid_id(media_id):
        raise NotFound("media ids are 64 hexadecimal digits", code="media_not_found", id=None)
    store = storage_for(settings)
    item = store.find(media_id)
    if item is None:
        raise NotFound(f"no photo {media_id}", code="media_not_found")
    try:
        data = store.read(item, variant)
    except FileNotFoundError:
        raise NotFound(f"no {variant} of photo {media_id}", code="media_not_found") from None
    return Response(
        data,
        media_type="image/jpeg" if variant == "thumb" else item.media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/media/{media_id}", name="get_media", response_class=Response)
def get_media(media_id: str, settings: SettingsDep) -> Response:
    """The photo as uploaded (rotated upright when its EXIF said so); 404 for an unknown id."""
    return _serve(settings, media_id, "original")


@router.get("/media/{media_id}/thumb", name="get_media_thumb", response_class=Response)
def get_media_thumb(media_id: str, settings: SettingsDep) -> Response:
    """A JPEG thumbnail no larger than 400 px on either side; 404 for an unknown id."""
    return _serve(settings, media_id, "thumb")
