"""The installed facerec version (one place, read by the package metadata and saved models)."""

__version__ = "0.2.0"
