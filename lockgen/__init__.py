"""lockgen: reproducible, hashed, per-platform locks from a conda environment.yml."""

__version__ = "0.2.0"
__all__ = ["__version__"]
