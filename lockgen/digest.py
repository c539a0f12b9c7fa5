"""``sha256`` for lockgen's own small digests (input hashes, lock bodies, ``-r`` files, the commit's
manifest), and ``blake2b`` for the name of the conda→PyPI mapping's memo, without loading OpenSSL.

``import hashlib`` loads OpenSSL's libcrypto (``_hashlib``) whatever digest is asked for: about 3 ms
at the start of every command that imports it, more than ``check`` spends on all its digests. The
interpreter's own sha256 gives the same digest and loads in 0.2 ms, but is slower on large inputs
(about 3.5 ms a megabyte against OpenSSL's 0.8): files that large (the conda→PyPI mapping, package
archives) are digested with :mod:`hashlib`; the mapping's memo is named by its BLAKE2b, the builtin digest
that is fast on a megabyte (about 1 ms). :func:`hmac_sha256` seals the commit's journal the same way:
the :mod:`hmac` module loads OpenSSL too (about 2-3 ms at the end of every lock that writes a file). An
interpreter built without its own sha256 or BLAKE2b falls back to :mod:`hashlib`'s (docs/performance.md,
"Round 8: the shared startup", "the no-op lock" and "Round 9: the warm lock's main thread").
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

__all__ = ["blake2b", "hmac_sha256", "sha256"]

if TYPE_CHECKING:
    from hashlib import blake2b as blake2b  # noqa: PLC0414 - the type checker sees hashlib's signatures
    from hashlib import sha256 as sha256  # noqa: PLC0414
else:
    try:  # the one module of this Python's (a failed import would search every folder on sys.path)
        if sys.version_info >= (3, 12):
            from _sha2 import sha256
        else:
            from _sha256 import sha256
    except ImportError:  # built without it (--with-builtin-hashlib-hashes leaving sha256 out)
        from hashlib import sha256
    try:
        from _blake2 import blake2b
    except ImportError:  # built without it
        from hashlib import blake2b


_BLOCK = 64
"""SHA-256's block size in bytes: HMAC pads its key to it."""
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


def hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under ``key`` (RFC 2104), hex: ``hmac.new(key, message, hashlib.sha256)``'s
    digest, made with :func:`sha256` so that sealing a small manifest loads no OpenSSL."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(key.translate(_INNER) + message).digest()
    return sha256(key.translate(_OUTER) + inner).hexdigest()
