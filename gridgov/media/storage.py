"""Where photos live: a storage interface and the local-disk implementation.

Photos are content-addressed: the id is the SHA-256 of the uploaded bytes, so the same photo
uploaded twice is stored once. On disk the original sits at
``<data_dir>/media/YYYY/MM/<id>.<ext>`` and its JPEG thumbnail beside it at
``<id>.thumb.jpg``. Files are written to a temporary name and renamed, so a killed server never
leaves half a photo under a real name.

An S3-compatible store is a second class with the same three methods (``find``, ``put``,
``read``); :func:`storage_for` is the one place that picks the class. It is not written yet.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from gridgov.config import Settings
from gridgov.media.checks import MEDIA_TYPES, valid_id

Variant = Literal["original", "thumb"]
_EXTS = tuple(MEDIA_TYPES)


@dataclass(frozen=True)
class StoredMedia:
    """A stored photo: its id, the extension of the original and its folder key (``YYYY/MM``)."""

    id: str
    ext: str
    folder: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.ext]


class MediaStorage(Protocol):
    """What the media API needs from a store."""

    def find(self, media_id: str) -> StoredMedia | None:
        """The stored photo with this id, or None."""
        ...

    def put(
        self, media_id: str, ext: str, original: bytes, thumb: bytes, *, now: datetime
    ) -> StoredMedia:
        """Store a photo and its thumbnail (a no-op returning the existing one if stored)."""
        ...

    def read(self, item: StoredMedia, variant: Variant) -> bytes:
        """The bytes of the original or of the thumbnail."""
        ...


class LocalStorage:
    """Photos under a folder on the local disk (``<data_dir>/media``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, item: StoredMedia, variant: Variant) -> Path:
        name = f"{item.id}.thumb.jpg" if variant == "thumb" else f"{item.id}.{item.ext}"
        return self.root / item.folder / name

    def find(self, media_id: str) -> StoredMedia | None:
        """Look for ``<id>.<ext>`` in every ``YYYY/MM`` folder (ids are checked as hex first)."""
        if not valid_id(media_id) or not self.root.is_dir():
            return None
        for ext in _EXTS:
            for path in self.root.glob(f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/{media_id}.{ext}"):
                folder = f"{path.parent.parent.name}/{path.parent.name}"
                return StoredMedia(media_id, ext, folder)
        return None

    def put(
        self, media_id: str, ext: str, original: bytes, thumb: bytes, *, now: datetime
    ) -> StoredMedia:
        """Write the original and the thumbnail unless this id is already stored."""
        if not valid_id(media_id) or ext not in _EXTS:
            raise ValueError(f"bad media id or extension: {media_id!r}.{ext!r}")
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
        """The stored bytes; FileNotFoundError if the file vanished."""
        return self._path(item, variant).read_bytes()


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


def storage_for(settings: Settings) -> MediaStorage:
    """The configured store. Only the local disk exists today; an S3-compatible class would be
    chosen here from a setting."""
    return LocalStorage(settings.data_dir / "media")
