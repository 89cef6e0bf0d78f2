"""HTTP API of photos (照片): upload, original and thumbnail.

Staff, residents and anonymous reporters upload; residents and anonymous clients are rate
limited (per resident, or per IP address) by the database-backed limiter shared by every app
worker (:mod:`gridgov.ratelimit`; 429 with ``Retry-After``). Ids are 64 hex digits (the SHA-256
of the upload) and are checked before any path or object key is built. Photos are served by id
to anyone who has it: the id cannot be guessed, and the case pages show them with plain
``<img>`` tags. Where they are stored (local disk or an S3-compatible bucket) is a setting
(:func:`gridgov.media.storage.storage_for`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile
from pydantic import BaseModel

from gridgov.accounts.models import Role
from gridgov.config import Settings
from gridgov.deps import OptionalUser, SettingsDep
from gridgov.errors import NotFound
from gridgov.media.checks import check_image, check_size, valid_id
from gridgov.media.storage import StoredMedia, Variant, storage_for
from gridgov.ratelimit import RateLimitRoute, client_key, enforce

router = APIRouter(tags=["media"], route_class=RateLimitRoute)


class MediaRead(BaseModel):
    """A stored photo: its id (use it in a case's ``photos``), where to get it and its size."""

    id: str
    url: str
    thumb_url: str
    width: int
    height: int
    bytes: int


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


_RATE_LIMITED = {
    "description": "too many uploads from this client (anonymous: per IP address; resident: per "
    "account); retry after the seconds in Retry-After",
    "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
}


@router.post("/media", status_code=201, response_model=MediaRead, responses={429: _RATE_LIMITED})
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
        enforce(
            request,
            "media-upload",
            client_key(request, None if user is None else user.id),
            settings.media_public_per_minute,
            message=f"too many uploads; at most {settings.media_public_per_minute} a minute",
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
    blob = store.get(media_id, variant)
    if blob is None:
        if variant == "thumb" and store.exists(media_id):
            raise NotFound(f"no {variant} of photo {media_id}", code="media_not_found")
        raise NotFound(f"no photo {media_id}", code="media_not_found")
    return Response(
        blob.data,
        media_type=blob.media_type,
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
