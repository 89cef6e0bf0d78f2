"""Taxonomy service: seed, import/export (JSON and Excel), lookup, search and local edits.

Every import is validated as a whole first (:mod:`gridgov.taxonomy.validation`); a file with any
bad row is refused with all its problems and nothing is written. Imports upsert by (kind, code):
rows in the file are created or updated, a subclass's time limits are replaced by the file's, and
classes missing from the file are left alone (cases may point at them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from gridgov import revisions
from gridgov.db import detached_loader
from gridgov.errors import Conflict, ImportRejected, NotFound, ValidationError
from gridgov.taxonomy import excel
from gridgov.taxonomy.models import (
    Kind,
    Step,
    Subclass,
    SubclassTimeLimit,
    TaxonomyClass,
    TimeUnit,
    Urgency,
)
from gridgov.taxonomy.pinyin import initials
from gridgov.taxonomy.validation import Loc, Taxonomy, parse, raw_key

DEFAULT_FILE = Path(__file__).parent / "data" / "default.json"
FORMAT = "gridgov-taxonomy"
NOTE = (
    "Time limits are examples; each city adjusts the numbers (and may add local classes) "
    "through the admin import/export. 时限数值由各城市根据本地标准调整。"
)
STEP_ORDER = list(Step)
URGENCY_ORDER = list(Urgency)


# --- import --------------------------------------------------------------------------------


def load_default(session: Session) -> dict[str, int]:
    """Load the default taxonomy (``data/default.json``); idempotent.

    Only classes and subclasses not yet stored are added, so a second call changes nothing and
    a city's own edits to stored rows are kept.
    """
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    return import_json(session, data, only_missing=True)


def import_json(
    session: Session, data: Mapping[str, Any], *, only_missing: bool = False
) -> dict[str, int]:
    """Import a taxonomy document (the shape :func:`export_json` produces).

    Returns counts of created and updated classes and subclasses. Raises ImportRejected (every
    bad row as sheet/row/field/reason, ``sheet`` being the JSON list) and writes nothing then.
    """
    if not isinstance(data, Mapping):
        raise ImportRejected("taxonomy refused: expected a JSON object", [])
    problems = []
    lists: dict[str, list[Any]] = {}
    for name in ("classes", "subclasses"):
        value = data.get(name, [])
        if not isinstance(value, list):
            problems.append({"sheet": name, "row": 0, "field": name, "reason": "expected a list"})
            value = []
        lists[name] = value
    if problems:
        raise ImportRejected("taxonomy refused: malformed document", problems)

    classes = [(Loc("classes", i), raw) for i, raw in enumerate(lists["classes"], start=1)]
    subclasses = [(Loc("subclasses", i), raw) for i, raw in enumerate(lists["subclasses"], 1)]
    limits = []
    for i, raw in enumerate(lists["subclasses"], start=1):
        rows = raw.get("time_limits", []) if isinstance(raw, Mapping) else []
        if not isinstance(rows, list):
            rows = [rows]
        for j, limit in enumerate(rows):
            limits.append((Loc("subclasses", i, f"time_limits[{j}]."), raw_key(raw), limit))
    taxonomy = parse(classes, subclasses, limits, _stored_class_keys(session))
    return _write(session, taxonomy, only_missing=only_missing)


def import_excel(session: Session, path: str | Path | IO[bytes]) -> dict[str, int]:
    """Import a workbook as written by :func:`export_excel` (sheets classes, subclasses,
    time_limits); problems name the sheet and the spreadsheet row."""
    classes, subclasses, limits = excel.read_workbook(path)
    taxonomy = parse(classes, subclasses, limits, _stored_class_keys(session))
    return _write(session, taxonomy, only_missing=False)


def _stored_class_keys(session: Session) -> set[tuple[Kind, str]]:
    return {(k, c) for k, c in session.execute(select(TaxonomyClass.kind, TaxonomyClass.code))}


def _write(session: Session, taxonomy: Taxonomy, *, only_missing: bool) -> dict[str, int]:
    forget_subclasses(session)
    counts = dict.fromkeys(
        ("classes_created", "classes_updated", "subclasses_created", "subclasses_updated"), 0
    )
    stored = {(c.kind, c.code): c for c in session.scalars(select(TaxonomyClass))}
    for row in taxonomy.classes:
        cls = stored.get((row.kind, row.code))
        if cls is not None and only_missing:
            continue
        if cls is None:
            cls = stored[(row.kind, row.code)] = TaxonomyClass(kind=row.kind, code=row.code)
            session.add(cls)
            counts["classes_created"] += 1
        else:
            counts["classes_updated"] += 1
        cls.name, cls.is_local, cls.is_active = row.name, row.is_local, row.is_active
        cls.sort_order = row.sort_order
    session.flush()

    subs = {(s.kind, s.code): s for s in session.scalars(select(Subclass))}
    for srow in taxonomy.subclasses:
        sub = subs.get((srow.kind, srow.code))
        if sub is not None and only_missing:
            continue
        if sub is None:
            sub = Subclass(kind=srow.kind, code=srow.code, time_limits=[])
            session.add(sub)
            counts["subclasses_created"] += 1
        else:
            counts["subclasses_updated"] += 1
        sub.class_id = stored[(srow.kind, srow.code[:2])].id
        sub.name, sub.initials = srow.name, initials(srow.name)
        sub.register_condition, sub.close_condition = srow.register_condition, srow.close_condition
        sub.urgency_levels = [u.value for u in srow.urgency_levels]
        sub.is_local, sub.is_active, sub.sort_order = srow.is_local, srow.is_active, srow.sort_order
        _replace_limits(sub, {(t.step, t.urgency): (t.value, t.unit) for t in srow.time_limits})
    session.flush()
    return counts


def _replace_limits(
    sub: Subclass, wanted: Mapping[tuple[Step, Urgency | None], tuple[int, TimeUnit]]
) -> None:
    """Update limits in place by (step, urgency), add new ones and drop the rest."""
    for limit in list(sub.time_limits):
        key = (limit.step, limit.urgency)
        if key in wanted:
            limit.value, limit.unit = wanted[key]
        else:
            sub.time_limits.remove(limit)
    have = {(t.step, t.urgency) for t in sub.time_limits}
    for (step, urgency), (value, unit) in wanted.items():
        if (step, urgency) not in have:
            sub.time_limits.append(
                SubclassTimeLimit(step=step, urgency=urgency, value=value, unit=unit)
            )


# --- export --------------------------------------------------------------------------------


def export_json(session: Session) -> dict[str, Any]:
    """The whole taxonomy as a document :func:`import_json` accepts unchanged."""
    classes = session.scalars(
        select(TaxonomyClass).order_by(
            TaxonomyClass.kind, TaxonomyClass.sort_order, TaxonomyClass.code
        )
    )
    subs = session.scalars(select(Subclass).order_by(Subclass.kind, Subclass.code))
    return {
        "format": FORMAT,
        "version": 1,
        "note": NOTE,
        "classes": [class_dict(c) for c in classes],
        "subclasses": [subclass_dict(s) for s in subs],
    }


def export_excel(session: Session, path: str | Path | IO[bytes]) -> None:
    """Write the taxonomy as a workbook with sheets classes, subclasses and time_limits."""
    excel.write_workbook(path, export_json(session))


def class_dict(cls: TaxonomyClass) -> dict[str, Any]:
    return {
        "kind": cls.kind.value,
        "code": cls.code,
        "name": cls.name,
        "is_local": cls.is_local,
        "is_active": cls.is_active,
        "sort_order": cls.sort_order,
    }


def subclass_dict(sub: Subclass) -> dict[str, Any]:
    limits = sorted(
        sub.time_limits,
        key=lambda t: (
            STEP_ORDER.index(t.step),
            -1 if t.urgency is None else URGENCY_ORDER.index(t.urgency),
        ),
    )
    return {
        "kind": sub.kind.value,
        "code": sub.code,
        "name": sub.name,
        "register_condition": sub.register_condition,
        "close_condition": sub.close_condition,
        "urgency_levels": list(sub.urgency_levels),
        "is_local": sub.is_local,
        "is_active": sub.is_active,
        "sort_order": sub.sort_order,
        "time_limits": [
            {
                "step": t.step.value,
                "urgency": t.urgency.value if t.urgency else None,
                "value": t.value,
                "unit": t.unit.value,
            }
            for t in limits
        ],
    }


# --- lookup and search ---------------------------------------------------------------------


def list_classes(session: Session, kind: Kind | None = None) -> list[TaxonomyClass]:
    stmt = select(TaxonomyClass).order_by(
        TaxonomyClass.kind, TaxonomyClass.sort_order, TaxonomyClass.code
    )
    if kind is not None:
        stmt = stmt.where(TaxonomyClass.kind == kind)
    return list(session.scalars(stmt))


#: ``session.info`` key of the per-session memo of :func:`get_subclass`: one case action looks
#: its subclass up several times (time limits, routing, notifications). Per session, so every
#: request still sees the taxonomy as stored; writes here drop it.
_MEMO_KEY = "gridgov.taxonomy.subclass_memo"


#: Built once (every report and action looks its subclass up): one query with the time limits
#: joined, where the relationship's own selectin load would be a second.
_SUBCLASS_BY_CODE = (
    select(Subclass)
    .options(joinedload(Subclass.time_limits))
    .where(Subclass.code == bindparam("code"))
)
_SUBCLASS_BY_CODE_AND_KIND = _SUBCLASS_BY_CODE.where(Subclass.kind == bindparam("kind"))


def get_subclass(session: Session, code: str, kind: Kind | None = None) -> Subclass:
    """The subclass with this 4-digit code; ``kind`` is needed when both trees use the code.

    Raises NotFound, or ValidationError (code ``ambiguous``) naming the kinds to choose from.
    """
    memo: dict[tuple[str, Kind | None], Subclass] = session.info.setdefault(_MEMO_KEY, {})
    hit = memo.get((code, kind))
    if hit is not None:
        return hit
    stmt = _SUBCLASS_BY_CODE if kind is None else _SUBCLASS_BY_CODE_AND_KIND
    found = list(session.scalars(stmt, {"code": code, "kind": kind}).unique())
    if not found:
        what = f"{kind} subclass" if kind else "subclass"
        raise NotFound(f"no {what} with code {code!r}", code="subclass_not_found", subclass=code)
    if len(found) > 1:
        kinds = ", ".join(sorted(s.kind.value for s in found))
        raise ValidationError(
            f"subclass code {code} exists for several kinds ({kinds}); give kind", code="ambiguous"
        )
    memo[(code, kind)] = found[0]
    return found[0]


# Every report and action reads its subclass: shared copies, read again when the taxonomy
# changed (its revision is read with the other caches' versions, one statement per request).
revisions.watch("taxonomy", TaxonomyClass, Subclass, SubclassTimeLimit)


def shared_subclass(session: Session, code: str, kind: Kind | None = None) -> Subclass:
    """:func:`get_subclass` for reading only (a report's checks, its deadlines): one detached
    copy per process with its time limits loaded, kept while the taxonomy's revision stays the
    same. Never change it or add it to a session: use :func:`get_subclass` to edit."""

    def load() -> Subclass:
        with detached_loader(session) as loader:
            return get_subclass(loader, code, kind)

    return revisions.cached(session, "taxonomy", (code, kind), load)


def forget_subclasses(session: Session) -> None:
    """Drop the session's memo of :func:`get_subclass` (after the taxonomy changed)."""
    session.info.pop(_MEMO_KEY, None)


def list_subclasses(
    session: Session,
    kind: Kind | None = None,
    q: str | None = None,
    *,
    include_inactive: bool = False,
) -> list[Subclass]:
    """Active subclasses by kind and code; ``q`` matches the Chinese name (contains), the code
    (prefix) or the start of the pinyin initials (``bllj`` or ``bl`` finds 暴露垃圾)."""
    stmt = select(Subclass).order_by(Subclass.kind, Subclass.code)
    if kind is not None:
        stmt = stmt.where(Subclass.kind == kind)
    if not include_inactive:
        stmt = stmt.where(Subclass.is_active.is_(True))
    text = (q or "").strip()
    if text:
        conds = [Subclass.name.contains(text, autoescape=True)]
        if text.isascii() and text.isdigit():
            conds.append(Subclass.code.startswith(text, autoescape=True))
        if text.isascii() and text.isalnum():
            word = text.lower()  # a prefix of any initials variant
            conds.append(Subclass.initials.startswith(word, autoescape=True))
            conds.append(Subclass.initials.contains(" " + word, autoescape=True))
        stmt = stmt.where(or_(*conds))
    return list(session.scalars(stmt))


# --- local edits ---------------------------------------------------------------------------


def set_time_limit(
    session: Session,
    *,
    kind: Kind,
    code: str,
    step: Step,
    value: int,
    unit: TimeUnit,
    urgency: Urgency | None = None,
) -> SubclassTimeLimit:
    """Set one time limit of a subclass (a city adjusting a number); validated like an import."""
    sub = get_subclass(session, code, kind)
    doc = subclass_dict(sub)
    doc["time_limits"] = [
        t for t in doc["time_limits"] if (t["step"], t["urgency"]) != (step, urgency)
    ] + [{"step": step, "urgency": urgency, "value": value, "unit": unit}]
    _import_one(session, doc)
    return next(t for t in sub.time_limits if (t.step, t.urgency) == (step, urgency))


def add_local_class(
    session: Session, *, kind: Kind, code: str, name: str, sort_order: int | None = None
) -> TaxonomyClass:
    """Add a local extension major class (本地扩展大类), e.g. event 07 社会治理."""
    if any(c.code == code for c in list_classes(session, kind)):
        raise Conflict(f"{kind} class {code} already exists", code="class_exists")
    if sort_order is None:
        sort_order = max((c.sort_order for c in list_classes(session, kind)), default=0) + 1
    row = {"kind": kind, "code": code, "name": name, "is_local": True, "sort_order": sort_order}
    try:
        taxonomy = parse([(Loc("class", 1), row)], [], [])
    except ImportRejected as exc:
        raise _single(exc) from None
    _write(session, taxonomy, only_missing=False)
    return next(c for c in list_classes(session, kind) if c.code == code)


def add_local_subclass(
    session: Session,
    *,
    kind: Kind,
    code: str,
    name: str,
    register_condition: str,
    close_condition: str,
    urgency_levels: list[Urgency],
    time_limits: list[Mapping[str, Any]],
) -> Subclass:
    """Add a local extension subclass under an existing major class, with all its limits."""
    if any(s.code == code for s in session.scalars(select(Subclass).where(Subclass.kind == kind))):
        raise Conflict(f"{kind} subclass {code} already exists", code="subclass_exists")
    doc = {
        "kind": kind,
        "code": code,
        "name": name,
        "register_condition": register_condition,
        "close_condition": close_condition,
        "urgency_levels": list(urgency_levels),
        "is_local": True,
        "sort_order": 1
        + max(
            (s.sort_order for s in list_subclasses(session, kind, include_inactive=True)),
            default=0,
        ),
        "time_limits": list(time_limits),
    }
    _import_one(session, doc)
    return get_subclass(session, code, kind)


def _import_one(session: Session, doc: dict[str, Any]) -> None:
    limits = [
        (Loc("subclass", 1, f"time_limits[{j}]."), raw_key(doc), t)
        for j, t in enumerate(doc["time_limits"])
    ]
    try:
        taxonomy = parse([], [(Loc("subclass", 1), doc)], limits, _stored_class_keys(session))
    except ImportRejected as exc:
        raise _single(exc) from None
    _write(session, taxonomy, only_missing=False)


def _single(exc: ImportRejected) -> ValidationError:
    """An import problem list as one ValidationError for single-row edits."""
    first = exc.problems[0] if exc.problems else {"field": "", "reason": exc.message}
    reasons = "; ".join(f"{p['field']}: {p['reason']}" for p in exc.problems)
    return ValidationError(reasons or exc.message, field=first["field"])
