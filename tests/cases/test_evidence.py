"""Evidence bundles: signed, complete, tamper-evident, text redacted unless asked for."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.audit.service import Actor
from safeguard.cases import evidence
from safeguard.cases import service as cases
from safeguard.cases.instance_key import load_or_create, public_pem
from safeguard.config import Settings
from safeguard.db.encryption import cipher_for
from safeguard.db.engine import Database

ANA = Actor("user", "ana", 1)
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.fixture
def case_id(db: Database, settings: Settings) -> int:
    with db.session() as s:
        case = cases.create_case(s, ANA, "case", [("hash", f"md5:{MD5}"),
                                                  ("url", "https://example.org/x"),
                                                  ("text", "words from the report")],
                                 cipher=cipher_for(settings))
        cases.change_status(s, ANA, case.id, "in_triage")
        return case.id


def _bundle(db: Database, settings: Settings, case_id: int, **kw: bool) -> bytes:
    with db.session() as s:
        return evidence.build_bundle(s, ANA, case_id, cipher=cipher_for(settings),
                                     key=load_or_create(settings.data_dir), **kw)


def _rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_bundle_verifies_and_holds_the_case(db: Database, settings: Settings,
                                            case_id: int) -> None:
    data = _bundle(db, settings, case_id)
    verdict = evidence.verify_bundle(data)
    assert verdict.ok, verdict.problems
    key_fp = evidence.fingerprint(public_pem(load_or_create(settings.data_dir)))
    assert verdict.signer == key_fp
    assert evidence.verify_bundle(data, expected_signer=key_fp).ok
    files = {n: zipfile.ZipFile(io.BytesIO(data)).read(n)
             for n in zipfile.ZipFile(io.BytesIO(data)).namelist()}
    doc = json.loads(files["case.json"])
    assert doc["items"][2]["value"] == "[redacted: free text]"
    assert f"md5:{MD5}" in files["hashes.csv"].decode()
    actions = [json.loads(line)["action"] for line in files["audit.jsonl"].splitlines()]
    assert actions[0] == "case.create" and actions[-1] == "case.evidence_exported"
    full = json.loads(zipfile.ZipFile(io.BytesIO(
        _bundle(db, settings, case_id, include_text=True))).read("case.json"))
    assert full["items"][2]["value"] == "words from the report"


def test_tampering_is_found(db: Database, settings: Settings, case_id: int) -> None:
    data = _bundle(db, settings, case_id)
    files = {n: zipfile.ZipFile(io.BytesIO(data)).read(n)
             for n in zipfile.ZipFile(io.BytesIO(data)).namelist()}
    edited = dict(files, **{"case.json": files["case.json"].replace(b"in_triage", b"closed")})
    assert evidence.verify_bundle(_rezip(edited)).problems == [
        "case.json was changed after signing"]
    extra = dict(files, **{"note.txt": b"added later"})
    assert evidence.verify_bundle(_rezip(extra)).problems == ["note.txt is not in the manifest"]
    forged = dict(files, **{"manifest.sha256": files["manifest.sha256"] + b"x  y\n"})
    assert "signature" in evidence.verify_bundle(_rezip(forged)).problems[0]
    mismatch = evidence.verify_bundle(data, expected_signer="0" * 64)
    assert not mismatch.ok and "not by the expected" in mismatch.problems[0]
    assert not evidence.verify_bundle(b"not a zip").ok


def test_cli_export_and_verify(db: Database, cli_env: Settings, case_id: int,
                               tmp_path: Path) -> None:
    from safeguard.cli.main import app

    runner = CliRunner()
    out = tmp_path / "bundle.zip"
    result = runner.invoke(app, ["evidence", "export", str(case_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evidence", "verify", str(out)])
    assert result.exit_code == 0 and "valid" in result.output
    out.write_bytes(out.read_bytes()[:-20])
    result = runner.invoke(app, ["evidence", "verify", str(out)])
    assert result.exit_code == 1 and "invalid" in result.output
    assert runner.invoke(app, ["evidence", "export", "999", "--out",
                               str(tmp_path / "x.zip")]).exit_code == 1
