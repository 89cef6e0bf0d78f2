"""Photos named by a case (照片): every media id in a report or an action must be stored.

A report (上报) and the actions that carry evidence (核实, 处置反馈, 自行处置, 核查 …) name their
photos by media id (``POST /api/media`` returns it). An id nobody uploaded is refused with a 422
naming it, before anything is written. The check needs the media store; a caller without one
(``media`` None: the pure workflow tests, simulations that make their own ids) skips it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gridgov.errors import ValidationError
from gridgov.media.checks import valid_id
from gridgov.media.storage import MediaStorage

#: Payload fields of an action that hold photo ids.
PHOTO_FIELDS = ("photos",)
#: Most photos one report or one action may name (as ``CaseCreate.photos``).
MAX_PHOTOS = 20


def check_photos(media: MediaStorage | None, ids: Iterable[Any], field: str = "photos") -> None:
    """Raise ``ValidationError`` (422, code ``unknown_photo``) for the first id in ``ids`` that
    is not a stored photo; ``where`` names the field, the position and the id."""
    if media is None:
        return
    ids = list(ids)
    if len(ids) > MAX_PHOTOS:
        raise ValidationError(
            f"{field} names {len(ids)} photos; at most {MAX_PHOTOS} are allowed", field=field
        )
    for i, value in enumerate(ids):
        if not isinstance(value, str) or not valid_id(value):
            raise ValidationError(
                f"{field}[{i}] {value!r} is not a photo id (64 hexadecimal digits from "
                "POST /api/media)",
                code="unknown_photo",
                field=f"{field}[{i}]",
                photo=str(value),
            )
        if media.find(value) is None:
            raise ValidationError(
                f"photo {value} in {field}[{i}] does not exist; upload it first (POST /api/media)",
                code="unknown_photo",
                field=f"{field}[{i}]",
                photo=value,
            )


def check_payload_photos(media: MediaStorage | None, payload: Mapping[str, Any]) -> None:
    """Check the photo ids of an action's payload (only fields that are lists; the workflow
    has already refused malformed ones)."""
    for name in PHOTO_FIELDS:
        value = payload.get(name)
        if isinstance(value, list | tuple):
            check_photos(media, value, f"payload.{name}")
