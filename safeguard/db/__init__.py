"""Storage: engine, sessions, the declarative base and migrations."""

from safeguard.db.base import Base, utcnow
from safeguard.db.engine import Database, DatabaseUnavailable

__all__ = ["Base", "Database", "DatabaseUnavailable", "utcnow"]
