"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from safeguard.ads.models import (
    AdAssessment,
    AdBand,
    AdEntity,
    AdEvidence,
    AdNetwork,
    AdRecord,
    AdTextEdge,
)
from safeguard.audit.models import AuditEvent, AuditHead
from safeguard.auth.models import ApiToken, ConsoleSession, User
from safeguard.banks.models import Bank, BankChange, BankEntry, BankFeedHead
from safeguard.cases.case_models import Case, CaseDecision, CaseItem, CaseLinkKey, CaseNote
from safeguard.cases.models import ContentVerdict, TriageItem
from safeguard.cases.notice_models import Notice, NoticeAttempt, Referral
from safeguard.db.base import Base
from safeguard.matching.models import (
    MatchLogEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from safeguard.reports.models import (
    Report,
    ReportAddition,
    ReportHash,
    ReportTombstone,
)

__all__ = [
    "AdAssessment",
    "AdBand",
    "AdEntity",
    "AdEvidence",
    "AdNetwork",
    "AdRecord",
    "AdTextEdge",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Bank",
    "BankChange",
    "BankEntry",
    "BankFeedHead",
    "Base",
    "Case",
    "CaseDecision",
    "CaseItem",
    "CaseLinkKey",
    "CaseNote",
    "ConsoleSession",
    "ContentVerdict",
    "MatchLogEntry",
    "Notice",
    "NoticeAttempt",
    "Referral",
    "Report",
    "ReportAddition",
    "ReportHash",
    "ReportTombstone",
    "TriageItem",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
