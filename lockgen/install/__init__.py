"""Install an environment from a lock (``lockgen install``); shared repodata lookup for ``verify``."""

from __future__ import annotations

from lockgen.install.core import InstallOptions, InstallResult, install_lock, read_lock
from lockgen.install.prefix import activation_hint

__all__ = ["InstallOptions", "InstallResult", "activation_hint", "install_lock", "read_lock"]
