"""The cache directory made ready before anything is written into it."""

from __future__ import annotations

from pathlib import Path

from lockgen.config import CACHE_DIR_ENV
from lockgen.errors import ConfigError

__all__ = ["ensure_cache_dir"]


def ensure_cache_dir(path: Path, what: str = "cache directory") -> Path:
    """Create ``path`` if needed; a path that cannot be a directory raises ConfigError (exit 2)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise ConfigError(
            f"{what} {path} exists and is not a directory (check --cache-dir / {CACHE_DIR_ENV})"
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot create {what} {path}: {reason} (check --cache-dir / {CACHE_DIR_ENV})") from exc
    if not path.is_dir():
        raise ConfigError(f"{what} {path} is not a directory (check --cache-dir / {CACHE_DIR_ENV})")
    return path
