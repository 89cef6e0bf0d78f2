"""Checking an uploaded photo (照片) by its content, never by its file name.

Pillow must recognise the bytes as JPEG, PNG or WebP, verify them and decode every pixel (a
truncated file fails here); a camera's EXIF orientation is applied so the stored photo and its
thumbnail stand upright. Anything else is a 422 naming the problem, a file over the size limit
a 413.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from gridgov.errors import GridgovError, ValidationError
from gridgov.ratelimit import RateLimited

#: Pillow format → (file extension, media type) of the formats we accept.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
MEDIA_TYPES = {ext: mime for ext, mime in FORMATS.values()}
THUMB_PX = 400
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is plenty; more is a decompression bomb
_ID = re.compile(r"[0-9a-f]{64}")


class PayloadTooLarge(GridgovError):
    """The upload is bigger than the configured limit."""

    status = 413
    code = "too_large"


#: A public client sent more uploads than the rate limit allows (429, ``rate_limited``).
TooManyRequests = RateLimited


@dataclass(frozen=True)
class CheckedImage:
    """A photo that passed the checks: its id (sha256 of the uploaded bytes), format and size,
    the bytes to store (re-encoded only when EXIF rotation was applied) and the thumbnail."""

    id: str
    ext: str
    media_type: str
    width: int
    height: int
    data: bytes
    thumb: bytes


def media_id(data: bytes) -> str:
    """The content address of an upload: its SHA-256 in lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def valid_id(value: str) -> bool:
    """True for a well-formed media id (64 lower-case hex digits); nothing else reaches a path."""
    return bool(_ID.fullmatch(value))


def check_size(size: int, limit: int) -> None:
    """413 when ``size`` bytes exceed ``limit``; 422 for an empty upload."""
    if size == 0:
        raise ValidationError("the uploaded file is empty", code="empty_file", field="file")
    if size > limit:
        raise PayloadTooLarge(
            f"the file is {size} bytes; at most {limit} bytes ({limit // (1024 * 1024)} MB) "
            "are allowed",
            field="file",
            limit=limit,
        )


def _open(data: bytes) -> Image.Image:
    """Open, verify and fully decode ``data``; ValidationError naming what is wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format or "unknown"
            if fmt not in FORMATS:
                raise ValidationError(
                    f"a {fmt} image is not accepted; upload a JPEG, PNG or WebP photo",
                    code="unsupported_image",
                    field="file",
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(
                    f"the image is {probe.width}×{probe.height} pixels; "
                    f"at most {MAX_PIXELS // 1_000_000} megapixels are allowed",
                    code="image_too_large",
                    field="file",
                )
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
            return image
    except UnidentifiedImageError:
        raise ValidationError(
            "the file is not an image (its content is not JPEG, PNG or WebP, whatever its name)",
            code="not_an_image",
            field="file",
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "the image has too many pixels", code="image_too_large", field="file"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationError(
            f"the image is damaged or truncated ({exc})", code="broken_image", field="file"
        ) from None


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG no larger than THUMB_PX on either side; transparency goes onto white."""
    thumb = image.copy()
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    if thumb.mode in ("RGBA", "LA") or (thumb.mode == "P" and "transparency" in thumb.info):
        rgba = thumb.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        thumb = canvas
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def check_image(data: bytes, *, max_bytes: int) -> CheckedImage:
    """Check an upload and prepare what is stored. Raises PayloadTooLarge (413) or
    ValidationError (422: not an image, unsupported format, damaged or truncated)."""
    check_size(len(data), max_bytes)
    image = _open(data)
    fmt = image.format or ""
    ext, media_type = FORMATS[fmt]
    stored = data
    orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation
    if orientation not in (None, 1):
        upright = ImageOps.exif_transpose(image)
        buf = io.BytesIO()
        save_kwargs = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
        upright.save(buf, fmt, **save_kwargs)
        stored, image = buf.getvalue(), upright
    return CheckedImage(
        id=media_id(data),
        ext=ext,
        media_type=media_type,
        width=image.width,
        height=image.height,
        data=stored,
        thumb=_thumbnail(image),
    )
