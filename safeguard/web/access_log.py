"""Keep client addresses out of the access log for the public (child-facing) pages (CR-08).

Uvicorn's access logger writes the client address as the first argument of each record. The
portal promises children that no IP address is kept, and a log file is storage too, so every
request outside the staff areas (console, sign-in, API, docs) is logged with "-" instead.
The filter sits on the logger, so it applies however uvicorn was started.
"""

from __future__ import annotations

import logging

STAFF_PREFIXES = ("/console", "/login", "/logout", "/v1/", "/docs", "/redoc", "/openapi.json")
REDACTED = "-"


class RedactPublicClients(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if not path.startswith(STAFF_PREFIXES):
                record.args = (REDACTED, *args[1:])
        return True


def install() -> None:
    """Idempotent: one filter on uvicorn's access logger."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactPublicClients) for f in logger.filters):
        logger.addFilter(RedactPublicClients())
