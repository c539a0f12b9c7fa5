"""Repodata access shared by every command that reads channels: ``lock`` (solving), ``install``,
``verify`` and ``explain``.

- :mod:`~lockgen.repodata.gateway`: the one rattler Gateway factory (cache, offline policy,
  timeout, retries);
- :mod:`~lockgen.repodata.lookup`: the channel's record of each file a lock names;
- :mod:`~lockgen.repodata.failures`: how a failed fetch is worded (one line, the same in every
  command);
- :mod:`~lockgen.repodata.limit`: the decompression-bomb size check before a first fetch.
"""
