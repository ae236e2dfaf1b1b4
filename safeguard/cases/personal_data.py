"""Personal data in cases (free-text items and notes) is stored encrypted and decrypted only
for callers that hold the `personal_data` scope; every read that decrypts is audited. Pages
and the API call these functions instead of decrypting themselves, so the rule is in one
place."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import service as cases
from safeguard.cases.case_models import CaseItem, CaseNote, ItemKind
from safeguard.db.encryption import FieldCipher

SCOPE = "personal_data"
REDACTED = "[redacted: personal data; your role may not read it]"
# The operator's own tools (CLI, jobs) run with the database and the field keys in hand;
# refusing them would protect nothing.
_TRUSTED_KINDS = frozenset({"cli", "system"})


def may_read(actor: Actor) -> bool:
    return (actor.kind in _TRUSTED_KINDS or SCOPE in actor.scopes
            or "admin" in actor.scopes)


def item_values(session: Session, actor: Actor, case_id: int, items: list[CaseItem], *,
                cipher: FieldCipher) -> list[str]:
    """The value of each item as the actor may see it. Text items are decrypted only when
    allowed, and one audit entry names the items decrypted."""
    allowed = may_read(actor)
    text_ids = [i.id for i in items if i.kind == ItemKind.TEXT]
    if allowed and text_ids:
        record(session, actor, "case.personal_data_read", "case", case_id, items=text_ids)
    return [cases.item_value(i, cipher) if allowed or i.kind != ItemKind.TEXT else REDACTED
            for i in items]


def notes(session: Session, actor: Actor, case_id: int, *,
          cipher: FieldCipher) -> list[tuple[CaseNote, str]]:
    """Notes decrypted (and the read audited) for those allowed; redacted for the others."""
    if may_read(actor):
        return cases.read_notes(session, actor, case_id, cipher=cipher)
    return [(n, REDACTED) for n in cases.list_notes(session, case_id)]
