"""Where photos live: the storage seam, the local-disk store and the S3-compatible store.

Photos are content-addressed: the id is the SHA-256 of the uploaded bytes, so the same photo
uploaded twice is stored once. Every store keeps the original and a JPEG thumbnail and offers
the same five operations (:class:`MediaStorage`: ``exists``, ``find``, ``put``, ``get``,
``delete``); :func:`storage_for` is the one place that picks the store from the settings
(``media_store = "filesystem" | "s3"``).

- :class:`LocalStorage` (``filesystem``): the original at ``<data_dir>/media/YYYY/MM/<id>.<ext>``
  and its thumbnail beside it at ``<id>.thumb.jpg``. Files are written to a temporary name and
  renamed, so a killed server never leaves half a photo under a real name.
- :class:`S3Storage` (``s3``): any S3-compatible object store through boto3. The original is the
  object ``<prefix><id>`` (its ``Content-Type`` says the format) and the thumbnail
  ``<prefix><id>.thumb.jpg``: a photo is found by id with one request, no listing. A single PUT
  is atomic in S3, so a reader never sees half an object either.

Both write the thumbnail first: once the original is visible, the photo counts as stored.
Every method checks the id (64 hex digits) before it builds a path or a key.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from gridgov.config import Settings
from gridgov.errors import GridgovError
from gridgov.media.checks import MEDIA_TYPES, valid_id

if TYPE_CHECKING:
    from botocore.client import BaseClient

Variant = Literal["original", "thumb"]
_EXTS = tuple(MEDIA_TYPES)
_EXT_OF_TYPE = {mime: ext for ext, mime in MEDIA_TYPES.items()}
THUMB_MEDIA_TYPE = "image/jpeg"
log = logging.getLogger("gridgov.media")


class MediaStoreUnavailable(GridgovError):
    """The configured object store cannot be reached or refused the request (503)."""

    status = 503
    code = "media_store_unavailable"


@dataclass(frozen=True)
class StoredMedia:
    """A stored photo: its id, the extension of the original and its folder key (``YYYY/MM`` on
    the local disk, empty in an object store)."""

    id: str
    ext: str
    folder: str

    @property
    def media_type(self) -> str:
        """The media type of the original (``image/jpeg`` ...)."""
        return MEDIA_TYPES[self.ext]


@dataclass(frozen=True)
class MediaBlob:
    """The bytes of one variant of a photo and their media type."""

    data: bytes
    media_type: str


class MediaStorage(Protocol):
    """What the media API (and the demo loader) need from a store."""

    def exists(self, media_id: str) -> bool:
        """True when a photo with this id is stored."""
        ...

    def find(self, media_id: str) -> StoredMedia | None:
        """The stored photo with this id, or None."""
        ...

    def put(
        self, media_id: str, ext: str, original: bytes, thumb: bytes, *, now: datetime
    ) -> StoredMedia:
        """Store a photo and its thumbnail (a no-op returning the existing one if stored)."""
        ...

    def get(self, media_id: str, variant: Variant) -> MediaBlob | None:
        """The original or the thumbnail, or None when it is not stored."""
        ...

    def delete(self, media_id: str) -> bool:
        """Remove the photo and its thumbnail; False when there was nothing to remove."""
        ...


def _check_put(media_id: str, ext: str) -> None:
    if not valid_id(media_id) or ext not in _EXTS:
        raise ValueError(f"bad media id or extension: {media_id!r}.{ext!r}")


class LocalStorage:
    """Photos under a folder on the local disk (``<data_dir>/media``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, item: StoredMedia, variant: Variant) -> Path:
        name = f"{item.id}.thumb.jpg" if variant == "thumb" else f"{item.id}.{item.ext}"
        return self.root / item.folder / name

    def find(self, media_id: str) -> StoredMedia | None:
        """Look for ``<id>.<ext>`` in the ``YYYY/MM`` folders, newest first (ids are checked as
        hex first). A report names photos uploaded minutes before, so the first folder mostly
        has them: a few file checks, where a glob per extension listed every month ever kept."""
        if not valid_id(media_id) or not self.root.is_dir():
            return None
        for folder in self._folders():
            for ext in _EXTS:
                if (self.root / folder / f"{media_id}.{ext}").is_file():
                    return StoredMedia(media_id, ext, folder)
        return None

    def _folders(self) -> Iterator[str]:
        """The ``YYYY/MM`` folder names, newest first."""
        for year in _subfolders(self.root, 4):
            for month in _subfolders(self.root / year, 2):
                yield f"{year}/{month}"

    def exists(self, media_id: str) -> bool:
        """True when the original is on disk."""
        return self.find(media_id) is not None

    def put(
        self, media_id: str, ext: str, original: bytes, thumb: bytes, *, now: datetime
    ) -> StoredMedia:
        """Write the original and the thumbnail unless this id is already stored."""
        _check_put(media_id, ext)
        existing = self.find(media_id)
        if existing is not None:
            return existing
        item = StoredMedia(media_id, ext, now.strftime("%Y/%m"))
        folder = self.root / item.folder
        folder.mkdir(parents=True, exist_ok=True)
        # Thumbnail first: once the original is visible, find() may serve both.
        _write_atomic(self._path(item, "thumb"), thumb)
        _write_atomic(self._path(item, "original"), original)
        return item

    def read(self, item: StoredMedia, variant: Variant) -> bytes:
        """The stored bytes of a found photo; FileNotFoundError if the file vanished."""
        return self._path(item, variant).read_bytes()

    def get(self, media_id: str, variant: Variant) -> MediaBlob | None:
        """The original or the thumbnail from disk, or None."""
        item = self.find(media_id)
        if item is None:
            return None
        try:
            data = self.read(item, variant)
        except FileNotFoundError:
            return None
        return MediaBlob(data, THUMB_MEDIA_TYPE if variant == "thumb" else item.media_type)

    def delete(self, media_id: str) -> bool:
        """Unlink the original (first, so the photo stops counting as stored) and the thumbnail."""
        item = self.find(media_id)
        if item is None:
            return False
        self._path(item, "original").unlink(missing_ok=True)
        self._path(item, "thumb").unlink(missing_ok=True)
        return True


def _subfolders(path: Path, digits: int) -> list[str]:
    """The names of the folders in ``path`` made of ``digits`` digits, the highest first."""
    with os.scandir(path) as entries:
        names = [
            e.name
            for e in entries
            if len(e.name) == digits
            and e.name.isascii()
            and e.name.isdigit()
            and e.is_dir(follow_symlinks=False)
        ]
    return sorted(names, reverse=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    """Photos in a bucket of an S3-compatible object store, through one boto3 client.

    ``client`` is a boto3 S3 client (thread-safe; :func:`s3_client` builds one from the
    settings). Any error other than "no such key" — the endpoint down, the bucket missing,
    credentials refused — becomes :class:`MediaStoreUnavailable` (503); the details go to the log,
    never to the client.
    """

    def __init__(self, client: BaseClient, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, media_id: str, variant: Variant) -> str:
        suffix = ".thumb.jpg" if variant == "thumb" else ""
        return f"{self.prefix}{media_id}{suffix}"

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Run one client operation; None when the key does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return None
            log.error("S3 %s on bucket %s failed: %s", operation, self.bucket, exc)
            raise self._unavailable() from exc
        except BotoCoreError as exc:
            log.error("S3 %s on bucket %s failed: %s", operation, self.bucket, exc)
            raise self._unavailable() from exc

    def _unavailable(self) -> MediaStoreUnavailable:
        return MediaStoreUnavailable(
            "the photo store is not available right now; try again later",
        )

    def find(self, media_id: str) -> StoredMedia | None:
        """HEAD the original; its ``Content-Type`` (or ``ext`` metadata) gives the format."""
        if not valid_id(media_id):
            return None
        head = self._call("head_object", Key=self._key(media_id, "original"))
        if head is None:
            return None
        ext = _ext_of(head)
        return None if ext is None else StoredMedia(media_id, ext, "")

    def exists(self, media_id: str) -> bool:
        """True when the original object exists."""
        return self.find(media_id) is not None

    def put(
        self, media_id: str, ext: str, original: bytes, thumb: bytes, *, now: datetime
    ) -> StoredMedia:
        """Upload the thumbnail, then the original, unless this id is already stored."""
        _check_put(media_id, ext)
        existing = self.find(media_id)
        if existing is not None:
            return existing
        stored = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        parts: list[tuple[Variant, bytes, str]] = [
            ("thumb", thumb, THUMB_MEDIA_TYPE),
            ("original", original, MEDIA_TYPES[ext]),
        ]
        for variant, body, media_type in parts:
            self._call(
                "put_object",
                Key=self._key(media_id, variant),
                Body=body,
                ContentType=media_type,
                Metadata={"ext": ext, "stored": stored},
            )
        return StoredMedia(media_id, ext, "")

    def get(self, media_id: str, variant: Variant) -> MediaBlob | None:
        """GET one object (one request); None when it does not exist."""
        if not valid_id(media_id):
            return None
        obj = self._call("get_object", Key=self._key(media_id, variant))
        if obj is None:
            return None
        if variant == "thumb":
            media_type = THUMB_MEDIA_TYPE
        else:
            ext = _ext_of(obj)
            if ext is None:
                return None
            media_type = MEDIA_TYPES[ext]
        with obj["Body"] as body:
            return MediaBlob(body.read(), media_type)

    def delete(self, media_id: str) -> bool:
        """Delete the original (first) and the thumbnail; False when the photo was not stored."""
        if not self.exists(media_id):
            return False
        self._call("delete_object", Key=self._key(media_id, "original"))
        self._call("delete_object", Key=self._key(media_id, "thumb"))
        return True


def _ext_of(response: dict[str, Any]) -> str | None:
    """The extension of a stored original from its object metadata, None if not one of ours."""
    ext = (response.get("Metadata") or {}).get("ext")
    if ext in MEDIA_TYPES:
        return str(ext)
    media_type = str(response.get("ContentType", "")).split(";")[0].strip().lower()
    return _EXT_OF_TYPE.get(media_type)


def s3_client(settings: Settings) -> BaseClient:
    """A boto3 S3 client for the settings' endpoint, region and credentials.

    Path-style addressing by default (MinIO and most S3-compatible servers); checksums only where
    the API requires them (newer boto3 sends CRC32 trailers that several S3-compatible servers
    refuse); short timeouts and a few retries, so a dead store fails a request in seconds.
    """
    import boto3
    from botocore.config import Config

    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    session = boto3.session.Session(
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=secret,
        region_name=settings.s3_region,
    )
    config = Config(
        s3={"addressing_style": settings.s3_addressing_style},
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)


_s3_stores: dict[tuple[object, ...], S3Storage] = {}
_s3_lock = threading.Lock()


def _s3_storage(settings: Settings) -> S3Storage:
    """One S3Storage (and so one client and connection pool) per distinct S3 configuration."""
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    key = (
        settings.s3_endpoint_url,
        settings.s3_bucket,
        settings.s3_prefix,
        settings.s3_region,
        settings.s3_access_key,
        secret,
        settings.s3_addressing_style,
    )
    with _s3_lock:
        store = _s3_stores.get(key)
        if store is None:
            assert settings.s3_bucket  # Settings refuses media_store="s3" without one
            store = S3Storage(s3_client(settings), settings.s3_bucket, settings.s3_prefix)
            _s3_stores[key] = store
        return store


def storage_for(settings: Settings) -> MediaStorage:
    """The configured store: the local disk under the data directory, or the S3 bucket."""
    if settings.media_store == "s3":
        return _s3_storage(settings)
    return LocalStorage(settings.data_dir / "media")
