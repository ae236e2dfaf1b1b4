"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from safeguard.audit.models import AuditEvent, AuditHead
from safeguard.auth.models import ApiToken, ConsoleSession, User
from safeguard.db.base import Base

try:  # domains added step by step; each registers its tables on import
    from safeguard.banks import models as _banks_models  # noqa: F401
except ImportError:  # pragma: no cover - only while a domain is being built
    pass
try:
    from safeguard.matching import models as _matching_models  # noqa: F401
except ImportError:  # pragma: no cover
    pass

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "Base", "ConsoleSession", "User"]
