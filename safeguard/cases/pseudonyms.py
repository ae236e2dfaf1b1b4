"""Children who report are shown to analysts under a pseudonym, never by a reference that
leads back to their report's contact details. The same report always gets the same pseudonym,
so an analyst can tell that two items come from one child without knowing who it is."""

from __future__ import annotations

import base64
import hashlib

from safeguard.cases.models import Source, TriageItem

_DOMAIN = b"safeguard/child-pseudonym/v1:"


def pseudonym(source_ref: str) -> str:
    digest = hashlib.sha256(_DOMAIN + source_ref.encode()).digest()
    return "Child " + base64.b32encode(digest[:5]).decode().rstrip("=")[:6]


def source_label(item: TriageItem) -> str:
    """How the console names where an item came from."""
    kind = item.source.replace("_", " ")
    if item.source == Source.CHILD_REPORT:
        return f"{kind} ({pseudonym(item.source_ref)})"
    return f"{kind} ({item.source_ref})"


def visible_details(item: TriageItem) -> dict[str, object]:
    """Source details the console shows: for a child's report, nothing that points at the
    stored report (its id leads to the encrypted contact fields)."""
    if item.source == Source.CHILD_REPORT:
        return {k: v for k, v in item.details.items() if k not in ("report_id",)}
    return dict(item.details)
