"""Domain errors every layer understands. The web layer maps them to HTTP statuses and the CLI
to exit codes, so services never need to know who called them."""


class SafeguardError(Exception):
    """Base for expected, user-facing failures; the message is shown as is."""


class NotFoundError(SafeguardError, LookupError):
    """Something named by the caller does not exist (HTTP 404)."""


class ConflictError(SafeguardError):
    """The request clashes with what is stored (HTTP 409)."""


class InvalidInput(SafeguardError, ValueError):
    """The input is malformed; the message names every problem found (HTTP 422)."""


class FeatureDisabled(SafeguardError):
    """The operator switched this off (HTTP 403)."""
