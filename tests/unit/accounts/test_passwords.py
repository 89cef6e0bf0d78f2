"""Password hashing, verification and rehashing; phone masking."""

from __future__ import annotations

from argon2 import PasswordHasher

from gridgov.accounts import passwords
from gridgov.accounts.service import mask_phone


def test_hash_is_salted_argon2id_and_verifies() -> None:
    a = passwords.hash_password("s3cret-pass")
    b = passwords.hash_password("s3cret-pass")
    assert a.startswith("$argon2id$")
    assert a != b  # a fresh salt each time
    assert passwords.verify_password("s3cret-pass", a) == passwords.Verified(True, False)
    assert passwords.verify_password("s3cret-pasS", a).ok is False


def test_missing_or_malformed_hash_never_matches() -> None:
    assert passwords.verify_password("anything1", None).ok is False
    assert passwords.verify_password("anything1", "not-a-hash").ok is False
    assert passwords.verify_password("anything1", "").ok is False


def test_changed_parameters_ask_for_a_rehash(fast_hashing: PasswordHasher) -> None:
    old = passwords.hash_password("s3cret-pass")
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    previous = passwords.use_hasher(stronger)
    try:
        result = passwords.verify_password("s3cret-pass", old)
        assert result == passwords.Verified(ok=True, needs_rehash=True)
        new = passwords.hash_password("s3cret-pass")
        assert "m=2048,t=2,p=1" in new
        assert passwords.verify_password("s3cret-pass", new).needs_rehash is False
    finally:
        passwords.use_hasher(previous)


def test_phone_is_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-65123456") == "010****3456"
    assert mask_phone("12345") == "***45"
    assert mask_phone(None) is None
