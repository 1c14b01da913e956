"""The error for an optional package that is missing: it says how to install it."""


class MissingDependencyError(ImportError, ValueError):
    """A package facerec needs for what was asked is not installed; the message says how to install it.

    It is an ImportError (what it is) and a ValueError (what the CLI and the app report as a plain
    one-line message rather than a traceback).
    """
