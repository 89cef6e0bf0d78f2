"""Password hashing with argon2id (argon2-cffi), rehashed when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256  # argon2 accepts more, but a megabyte "password" is a denial of service


class _Hashing:
    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher

    @cached_property
    def dummy(self) -> str:
        """Verified against when there is no user, so both answers take the same time."""
        return self.hasher.hash("gridgov-dummy-password")


_current = _Hashing(PasswordHasher())


@dataclass(frozen=True)
class Verified:
    ok: bool
    needs_rehash: bool = False


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Switch the parameters new hashes get (tests and bulk demo loads use cheap ones); returns
    the previous hasher. Hashes made with other parameters still verify and are rehashed at
    their next successful login."""
    global _current
    previous = _current.hasher
    _current = _Hashing(hasher)
    return previous


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; the parameters are encoded in the hash)."""
    return _current.hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> Verified:
    """Check ``password``; ``needs_rehash`` says the hash uses other parameters than today's.

    A missing or malformed hash never matches (and costs the same time as a real check).
    """
    hashing = _current
    try:
        hashing.hasher.verify(password_hash or hashing.dummy, password)
    except (VerificationError, InvalidHashError):
        return Verified(ok=False)
    if password_hash is None:
        return Verified(ok=False)
    return Verified(ok=True, needs_rehash=hashing.hasher.check_needs_rehash(password_hash))


def burn_time(password: str) -> None:
    """Spend one hash verification: used when there is no user to check against."""
    verify_password(password, None)
