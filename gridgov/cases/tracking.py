"""Tracking codes (查询码): how a reporter without an account finds their case again.

The code is an HMAC of the case number with a server secret (``tracking_secret``, else
``secret_key``), so it needs no column on the case, cannot be derived from the number, and the
same number always has the same code. A wrong code and an unknown case answer the same 404, so
case numbers cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.cases.models import Case
from gridgov.config import Settings
from gridgov.errors import NotFound

#: Crockford's base 32: no I, L, O, U, so a code read over the phone is not mistyped.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_LENGTH = 10  # 50 bits
_CONTEXT = b"gridgov/case-tracking/v1\x00"
NOT_FOUND = "no case with this number and tracking code"


def _secret(settings: Settings) -> bytes:
    return (settings.tracking_secret or settings.secret_key).encode("utf-8")


def tracking_code(case_no: str, settings: Settings) -> str:
    """The tracking code (查询码) of ``case_no``: ten characters of Crockford base 32 from
    HMAC-SHA256(secret, case number). Give it to the reporter with the case number."""
    digest = hmac.new(_secret(settings), _CONTEXT + case_no.encode("utf-8"), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def normalize_code(code: str) -> str:
    """Upper case, spaces and dashes dropped, O read as 0 and I/L as 1."""
    return code.strip().upper().replace("-", "").replace(" ", "").translate(_READ_AS)


def code_matches(case_no: str, code: str, settings: Settings) -> bool:
    """True when ``code`` is the tracking code of ``case_no`` (compared in constant time)."""
    return hmac.compare_digest(
        normalize_code(code).encode("utf-8"), tracking_code(case_no, settings).encode("utf-8")
    )


def find_tracked_case(session: Session, case_no: str, code: str, settings: Settings) -> Case:
    """The case, if ``code`` is its tracking code; the same 404 for a wrong code and an
    unknown case."""
    case = None
    if code_matches(case_no, code, settings):
        case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise NotFound(NOT_FOUND, code="case_not_found")
    return case
