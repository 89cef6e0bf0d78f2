"""Gazetteer HTTP API: address search (地址匹配)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from gridgov.deps import SessionDep
from gridgov.gazetteer import service
from gridgov.gazetteer.schemas import AddressMatchRead, AddressSearchRead

router = APIRouter(tags=["gazetteer"])

QueryText = Annotated[
    str,
    Query(description="An address, part of one, or pinyin initials (dsbdj12); 1–100 characters"),
]
Limit = Annotated[int, Query(description="Results wanted, 1–100")]


@router.get("/address/search", response_model=AddressSearchRead)
def search_address(session: SessionDep, q: QueryText = "", limit: Limit = 10) -> AddressSearchRead:
    """Resolve an address to points: exact, prefix, pinyin-initials and fuzzy matches.

    ``q`` may be a full address (北京市东华区东四北大街12号), a partial one, one with typos, or
    pinyin initials (dsbdj12). An empty ``q`` or one longer than 100 characters is refused (422).
    """
    matches = service.search(session, q, limit)
    return AddressSearchRead(
        query=q, results=[AddressMatchRead.model_validate(asdict(m)) for m in matches]
    )
