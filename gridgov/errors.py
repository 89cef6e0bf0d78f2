"""Domain errors. Services raise them; the API maps them to 4xx responses.

Every error carries a stable machine ``code`` (translated by the UI), an English ``message`` and,
where it helps the user find the problem, a ``where`` dict (file, row, feature, field).
"""

from __future__ import annotations

from typing import Any


class GridgovError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **where: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.where = {k: v for k, v in where.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where:
            out["where"] = self.where
        return out


class ValidationError(GridgovError):
    status = 422
    code = "invalid"


class NotFound(GridgovError):
    status = 404
    code = "not_found"


class Conflict(GridgovError):
    status = 409
    code = "conflict"


class ImportRejected(GridgovError):
    """A file was refused as a whole; ``problems`` lists every bad row or feature."""

    status = 422
    code = "import_rejected"

    def __init__(self, message: str, problems: list[dict[str, Any]], **where: Any) -> None:
        super().__init__(message, **where)
        self.problems = problems

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": self.problems}


class Unauthorized(GridgovError):
    """Not logged in, or the session is unknown, expired (``session_expired``) or revoked."""

    status = 401
    code = "unauthenticated"


class Forbidden(GridgovError):
    """Logged in, but the role or the jurisdiction does not allow this."""

    status = 403
    code = "forbidden"
