"""The kit's one error type: a one-line message that names the fix."""

__all__ = ["KitError"]


class KitError(Exception):
    """A user-facing error; its message says what is wrong and how to fix it."""
