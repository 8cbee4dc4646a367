"""The package version, apart from the package face so that subpackages can read it."""

__version__ = "0.1.0.dev0"
