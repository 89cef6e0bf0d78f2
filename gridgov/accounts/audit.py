"""The audit log (审计日志): every change and every login, who did it, in which role, from where."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog, User
from gridgov.db import insert_now


class Auditable(Protocol):
    @property
    def audit_ref(self) -> tuple[str, str]: ...


AuditObject = Auditable | tuple[str, Any] | None


def _ref(obj: Any) -> tuple[str | None, str | None]:
    if obj is None:
        return None, None
    if isinstance(obj, tuple):
        kind, ident = obj
        return str(kind), None if ident is None else str(ident)[:60]
    ref = getattr(obj, "audit_ref", None)
    if ref is not None:
        return ref[0], str(ref[1])[:60]
    table = getattr(obj, "__tablename__", type(obj).__name__.lower())
    return table, str(getattr(obj, "id", None))


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj: AuditObject = None,
    detail: dict[str, Any] | None = None,
    *,
    ip: str | None = None,
) -> AuditLog:
    """Add one audit row in the caller's transaction. ``obj`` is a model with ``audit_ref``,
    any model with an ``id``, or an ``(object_type, object_id)`` pair. Never put a password or
    a token in ``detail``."""
    object_type, object_id = _ref(obj)
    row = AuditLog(
        user_id=actor.id if actor is not None else None,
        role=actor.role if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
        ip=ip,
    )
    insert_now(session, row)
    return row


def list_audit(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    user_id: int | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditLog]:
    """Audit rows, newest first."""
    q = select(AuditLog)
    if object_type is not None:
        q = q.where(AuditLog.object_type == object_type)
    if object_id is not None:
        q = q.where(AuditLog.object_id == object_id)
    if user_id is not None:
        q = q.where(AuditLog.user_id == user_id)
    if action is not None:
        q = q.where(AuditLog.action == action)
    q = q.order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(q))
