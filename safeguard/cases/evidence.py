"""Evidence bundles: a zip holding the case as JSON, every item's hashes, the audit extract
of the case, a manifest of SHA-256 sums and an Ed25519 signature of that manifest.

    case.json        the case, its items (text redacted unless asked for), decisions
    hashes.csv       every hash and URL key in the case
    audit.jsonl      the audit events about the case, with their chain hashes
    manifest.sha256  "<sha256>  <file>" per file above (sha256sum format)
    manifest.sig     Ed25519 signature of manifest.sha256
    signer.pub       the signing instance's public key (PEM)

`verify_bundle` checks the signature, then every file against the manifest, and refuses
files the manifest does not list.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor, record
from safeguard.cases import service as cases
from safeguard.cases.case_models import CaseLinkKey, ItemKind
from safeguard.cases.instance_key import public_pem
from safeguard.db.encryption import FieldCipher

# Fixed zip timestamps: the same case exported twice gives the same bytes (before signing).
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def build_bundle(session: Session, actor: Actor, case_id: int, *, cipher: FieldCipher,
                 key: Ed25519PrivateKey, include_text: bool = False) -> bytes:
    """The signed zip for one case. Exporting is audited (and the audit entry of the export
    itself is the last line of audit.jsonl)."""
    case = cases.get_case(session, case_id)
    record(session, actor, "case.evidence_exported", "case", case.id,
           include_text=include_text)
    session.flush()
    files = {
        "case.json": _case_json(session, case_id, cipher, include_text),
        "hashes.csv": _hashes_csv(session, case_id),
        "audit.jsonl": _audit_jsonl(session, case_id),
    }
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                       for name, data in files.items()).encode()
    files["manifest.sha256"] = manifest
    files["manifest.sig"] = key.sign(manifest)
    files["signer.pub"] = public_pem(key)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data)
    return out.getvalue()


def _case_json(session: Session, case_id: int, cipher: FieldCipher,
               include_text: bool) -> bytes:
    case = cases.get_case(session, case_id)
    doc: dict[str, Any] = {
        "reference": case.reference, "title": case.title, "status": case.status,
        "outcome": case.outcome, "created_at": case.created_at.isoformat(),
        "created_by": case.created_by,
        "items": [{
            "id": i.id, "kind": i.kind,
            "value": (cases.item_value(i, cipher) if include_text or i.kind != ItemKind.TEXT
                      else "[redacted: free text]"),
            "classification": i.classification, "age_group": i.age_group,
            "industry_class": i.industry_class, "assessed_by": i.assessed_by,
            "assessed_at": i.assessed_at.isoformat() if i.assessed_at else None,
        } for i in cases.items(session, case_id)],
        "decisions": [{
            "from": d.from_status, "to": d.to_status, "outcome": d.outcome,
            "reason": d.reason, "by": d.by, "at": d.at.isoformat(),
            "undone_at": d.undone_at.isoformat() if d.undone_at else None,
        } for d in cases.decisions(session, case_id)],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True).encode()


def _hashes_csv(session: Session, case_id: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item_id", "key"])
    for row in session.execute(select(CaseLinkKey.item_id, CaseLinkKey.key)
                               .where(CaseLinkKey.case_id == case_id)
                               .order_by(CaseLinkKey.item_id, CaseLinkKey.key)):
        writer.writerow(row)
    return out.getvalue().encode()


def _audit_jsonl(session: Session, case_id: int) -> bytes:
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "case", AuditEvent.target_id == str(case_id))
        .order_by(AuditEvent.seq))
    return "".join(json.dumps({
        "seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
        "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash,
    }, sort_keys=True, ensure_ascii=False) + "\n" for e in events).encode()


@dataclass
class Verdict:
    ok: bool
    signer: str = ""  # SHA-256 fingerprint of the signing key
    problems: list[str] = field(default_factory=list)


def fingerprint(public_key_pem: bytes) -> str:
    key = serialization.load_pem_public_key(public_key_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def verify_bundle(data: bytes, *, expected_signer: str | None = None) -> Verdict:
    """Check a bundle. `expected_signer` (a fingerprint) pins the instance that must have
    signed it; without it the bundle's own key is used and its fingerprint reported."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        files = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return Verdict(False, problems=[f"not a readable zip file: {exc}"])
    missing = [n for n in ("manifest.sha256", "manifest.sig", "signer.pub") if n not in files]
    if missing:
        return Verdict(False, problems=[f"missing {', '.join(missing)}"])
    try:
        signer = fingerprint(files["signer.pub"])
        public = serialization.load_pem_public_key(files["signer.pub"])
        assert isinstance(public, Ed25519PublicKey)
        public.verify(files["manifest.sig"], files["manifest.sha256"])
    except (InvalidSignature, ValueError, AssertionError):
        return Verdict(False, problems=["the signature does not match the manifest"])
    verdict = Verdict(True, signer=signer)
    if expected_signer and signer != expected_signer.lower():
        verdict.problems.append(f"signed by {signer}, not by the expected {expected_signer}")
    listed: dict[str, str] = {}
    for line in files["manifest.sha256"].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name, digest in listed.items():
        if name not in files:
            verdict.problems.append(f"{name} is listed in the manifest but missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            verdict.problems.append(f"{name} was changed after signing")
    extra = set(files) - set(listed) - {"manifest.sha256", "manifest.sig", "signer.pub"}
    verdict.problems += [f"{name} is not in the manifest" for name in sorted(extra)]
    verdict.ok = not verdict.problems
    return verdict
