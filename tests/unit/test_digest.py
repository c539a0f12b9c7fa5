"""lockgen.digest.sha256, the interpreter's own sha256, gives hashlib's digests; hmac_sha256 gives hmac's."""

from __future__ import annotations

import hashlib
import hmac
import importlib

import pytest

from lockgen.digest import hmac_sha256, sha256


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 300, "é — ü".encode()])
def test_sha256_is_hashlibs(data: bytes) -> None:
    assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert sha256(data).digest() == hashlib.sha256(data).digest()
    step = sha256()
    for i in range(0, len(data), 1000):
        step.update(data[i : i + 1000])
    assert step.hexdigest() == hashlib.sha256(data).hexdigest()


def test_sha256_is_not_openssls_where_the_interpreter_has_its_own() -> None:
    """The point of the module: no OpenSSL load for a small digest (docs/performance.md, "Round 8")."""
    for name in ("_sha2", "_sha256"):  # Python 3.12 and later; 3.10 and 3.11
        try:
            builtin = importlib.import_module(name)
        except ImportError:
            continue
        assert sha256 is builtin.sha256
        return
    pytest.skip("this interpreter has no sha256 of its own")


@pytest.mark.parametrize("key_size", [0, 1, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("message", [b"", b"abc", bytes(range(256)) * 40])
def test_hmac_sha256_is_hmacs(key_size: int, message: bytes) -> None:
    """The commit's seal (lockfiles/commit.py): keys shorter than, as long as and longer than a block."""
    key = bytes((7 * i + key_size) % 256 for i in range(key_size))
    assert hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).hexdigest()
