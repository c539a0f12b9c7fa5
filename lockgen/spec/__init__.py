"""environment.yml → :class:`~lockgen.spec.model.EnvSpec`, one module per concern.

- :mod:`~lockgen.spec.envfile`: reading and merging environment files (``load_env_specs``), all
  problems at once with their ``file:line``; imports no YAML parser.
- :mod:`~lockgen.spec.document`: one file's text parsed (``parse_env_text``), with PyYAML.
- :mod:`~lockgen.spec.memo`: what a text parsed to, kept in lockgen's cache (an unchanged file is read
  without PyYAML).
- :mod:`~lockgen.spec.model`: ``EnvSpec``, ``CondaDependency``, ``PipEntry``, ``Location``.
- :mod:`~lockgen.spec.yamlread`: a YAML document read with line numbers (``Reader``).
- :mod:`~lockgen.spec.condaspec`: a conda dependency checked.
- :mod:`~lockgen.spec.pipentry`: a ``pip:`` line checked (no PyYAML).

Each name is imported from its module; this package exports none.
"""
