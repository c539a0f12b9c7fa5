"""environment.yml → :class:`~lockgen.spec.model.EnvSpec`, one module per concern.

- :mod:`~lockgen.spec.envfile`: reading and merging environment files (``load_env_specs``,
  ``parse_env_text``), all problems at once with their ``file:line``.
- :mod:`~lockgen.spec.model`: ``EnvSpec``, ``CondaDependency``, ``PipEntry``, ``Location``.
- :mod:`~lockgen.spec.yamlread`: a YAML document read with line numbers (``Reader``).
- :mod:`~lockgen.spec.condaspec`: a conda dependency checked.
- :mod:`~lockgen.spec.pipentry`: the ``pip:`` list read and checked.

Each name is imported from its module; this package exports none.
"""
