"""The reports domain on both databases: encryption at rest, audited decryption, code and PIN
shown once and stored hashed, lockout, withdrawal, triage intake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor, verify_chain
from safeguard.cases.models import ItemStatus, TriageItem
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput, SafeguardError
from safeguard.reports import codes, service
from safeguard.reports.inputs import HashIn
from safeguard.reports.models import Report, ReportHash, ReportTombstone

PDQ = "f" * 16 + "0" * 48
MD5 = "0123456789abcdef0123456789abcdef"
ANALYST = Actor("user", "ana", 2, frozenset({"reports:read", "triage"}))
SECRET = "the person is called Sam Example"


KEY = generate_key()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher([KEY])


@pytest.fixture(autouse=True)
def _fresh_lockouts() -> None:
    service.unknown_code_failures.clear()


def _child(db: Database, cipher: FieldCipher, **kw: object) -> service.Receipt:
    data = service.ChildReportIn(**{"what": ["threatened"], "details": SECRET,
                                    "urls": ["example.org/post/1"],
                                    "hashes": [HashIn("pdq", PDQ, 90), HashIn("md5", MD5)],
                                    "age_band": "13_15", **kw})  # type: ignore[arg-type]
    with db.session() as s:
        receipt = service.submit_child(s, data, cipher=cipher)
        s.expunge(receipt.report)
    return receipt


@pytest.mark.cr("CR-01", "CR-12")
def test_child_report_needs_no_account_and_lands_in_triage(db: Database,
                                                          cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s:
        report = s.get(Report, receipt.report.id)
        assert report is not None
        assert report.submitted_by == "anonymous" and report.age_band == "13_15"
        assert report.urls == ["https://example.org/post/1"]
        assert report.incident_type == "Online Enticement of Children for Sexual Acts"
        assert report.contact is None  # contact is asked only after submitting
        item = s.get(TriageItem, report.triage_item_id)
        assert item is not None and item.source == "child_report"
        assert item.status == ItemStatus.QUEUED.value
        assert f"pdq:{PDQ}" in item.content_keys and f"md5:{MD5}" in item.content_keys
        assert SECRET not in (item.summary + item.title + str(item.details))
        # No date-of-birth column exists at all: age is a band.
        assert not any("birth" in c.name for c in Report.__table__.columns)


@pytest.mark.cr("CR-11")
def test_danger_now_marks_urgent_and_tops_the_queue(db: Database, cipher: FieldCipher) -> None:
    calm = _child(db, cipher, in_danger=False)
    danger = _child(db, cipher, in_danger=True, what=[])
    with db.session() as s:
        a = s.get(TriageItem, s.get(Report, calm.report.id).triage_item_id)  # type: ignore[union-attr]
        b = s.get(TriageItem, s.get(Report, danger.report.id).triage_item_id)  # type: ignore[union-attr]
        assert b is not None and a is not None
        assert b.urgent and not a.urgent and b.priority > a.priority
        assert s.get(Report, danger.report.id).urgent  # type: ignore[union-attr]


@pytest.mark.cr("CR-09")
def test_reporter_text_is_encrypted_at_rest(db: Database, cipher: FieldCipher) -> None:
    receipt = _child(db, cipher, reported_account="@someone_example")
    with db.session() as s:
        row = s.execute(text("SELECT details, reported_account FROM reports WHERE id = :i"),
                        {"i": receipt.report.id}).one()
        assert SECRET not in row[0] and "someone_example" not in row[1]
        assert cipher.decrypt(row[0]) == SECRET


@pytest.mark.cr("CR-09")
def test_decryption_needs_the_analyst_role_and_is_audited(db: Database,
                                                         cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s, pytest.raises(service.DecryptionNotAllowed):
        service.read_report(s, Actor("user", "aud", 3, frozenset({"audit:read"})),
                            receipt.report.id, cipher=cipher)
    with db.session() as s:
        view = service.read_report(s, ANALYST, receipt.report.id, cipher=cipher)
        assert view.details == SECRET
    with db.session() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.read")).all()
        assert [(e.actor, e.target_id) for e in reads] == [("user:ana",
                                                            str(receipt.report.id))]
        assert verify_chain(s).ok


@pytest.mark.cr("CR-09")
def test_rotation_re_encrypts_under_the_new_key(db: Database, cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    new = generate_key()
    rotating = FieldCipher([new, KEY])
    with db.session() as s:
        assert service.rotate_keys(s, Actor("cli", "t"), cipher=rotating) == 1
    with db.session() as s:
        stored = s.get(Report, receipt.report.id).details  # type: ignore[union-attr]
        assert FieldCipher([new]).decrypt(stored) == SECRET  # the old key is no longer needed


@pytest.mark.cr("CR-02")
def test_code_and_pin_are_random_shown_once_and_pin_stored_hashed(
        db: Database, cipher: FieldCipher, tmp_path: Path) -> None:
    first, second = _child(db, cipher), _child(db, cipher)
    assert first.code != second.code
    assert len(first.code) == codes.CODE_LENGTH and len(first.pin) == codes.PIN_LENGTH
    with db.session() as s:
        rows = s.execute(text("SELECT code_digest, pin_hash FROM reports")).all()
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM reports")).all()
                        for v in row)
    assert first.code not in dump and first.pin not in dump.replace(first.code, "")
    assert all(r[1].startswith("$argon2") for r in rows)
    with db.session() as s:
        opened = service.open_with_code(s, first.display_code.lower(), first.pin)
        assert opened.id == first.report.id


@pytest.mark.cr("CR-02")
def test_wrong_pins_lock_out_without_revealing_whether_a_code_exists(
        db: Database, cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    wrong = "000000" if receipt.pin != "000000" else "111111"
    unknown = "ZZZZZZZZZZZZ" if receipt.code != "ZZZZZZZZZZZZ" else "YYYYYYYYYYYY"
    messages = {}
    for code in (receipt.code, unknown):
        seen = []
        for _ in range(service.MAX_PIN_FAILURES + 1):
            with db.session() as s, pytest.raises(service.CodeRejected) as caught:
                service.open_with_code(s, code, wrong)
            seen.append((str(caught.value), caught.value.locked))
        messages[code] = seen
    assert messages[receipt.code] == messages[unknown]  # same answers, same order
    assert messages[unknown][-1][1] is True
    # Locked: even the right PIN is refused until the lockout ends.
    with db.session() as s, pytest.raises(service.CodeRejected):
        service.open_with_code(s, receipt.code, receipt.pin)
    later = utcnow() + service.LOCKOUT + timedelta(seconds=1)
    with db.session() as s:
        assert service.open_with_code(s, receipt.code, receipt.pin, now=later).id \
            == receipt.report.id


@pytest.mark.cr("CR-02")
def test_status_in_plain_words_follows_triage(db: Database, cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s:
        report = service.open_with_code(s, receipt.code, receipt.pin)
        assert service.status_of(s, report).key == "waiting"
        s.get(TriageItem, report.triage_item_id).status = "claimed"  # type: ignore[union-attr]
    with db.session() as s:
        report = service.open_with_code(s, receipt.code, receipt.pin)
        status = service.status_of(s, report)
        assert status.key == "being_read" and "reading your report" in status.words


@pytest.mark.cr("CR-02", "CR-09")
def test_add_information_is_encrypted(db: Database, cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s:
        report = service.open_with_code(s, receipt.code, receipt.pin)
        service.add_information(s, report, "they also wrote to my friend Alex Example",
                                "example.net/x", cipher=cipher)
    with db.session() as s:
        raw = s.execute(text("SELECT text, urls FROM report_additions")).one()
        assert "Alex Example" not in raw[0]
        view = service.read_report(s, ANALYST, receipt.report.id, cipher=cipher)
        assert view.additions[0][1] == "they also wrote to my friend Alex Example"
    with db.session() as s, pytest.raises(SafeguardError, match="write something"):
        service.add_information(s, service.open_with_code(s, receipt.code, receipt.pin), "  ",
                                cipher=cipher)


@pytest.mark.cr("CR-01")
def test_contact_is_optional_asked_after_and_encrypted(db: Database,
                                                      cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s:
        report = service.open_with_code(s, receipt.code, receipt.pin)
        service.set_contact(s, report, "reach me at kid@example.org", cipher=cipher)
    with db.session() as s:
        raw = s.execute(text("SELECT contact FROM reports")).scalar_one()
        assert "example.org" not in raw
        assert service.read_report(s, ANALYST, receipt.report.id, cipher=cipher).contact \
            == "reach me at kid@example.org"


@pytest.mark.cr("CR-15")
def test_withdraw_deletes_data_and_hashes_and_keeps_a_tombstone(db: Database,
                                                                cipher: FieldCipher) -> None:
    receipt = _child(db, cipher)
    with db.session() as s:
        report = service.open_with_code(s, receipt.code, receipt.pin)
        report.shared_with = ["Partner hotline A"]
        ref, item_id = report.ref, report.triage_item_id
        service.add_information(s, report, "more", cipher=cipher)
    with db.session() as s:
        service.withdraw(s, service.open_with_code(s, receipt.code, receipt.pin))
    with db.session() as s:
        for table in ("reports", "report_hashes", "report_additions"):
            assert s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
        assert s.get(TriageItem, item_id) is None
        tomb = s.scalars(select(ReportTombstone)).one()
        assert (tomb.ref, tomb.hash_count, tomb.partners_to_tell) == \
            (ref, 2, ["Partner hotline A"])
        assert [t.ref for t in service.withdrawals_to_tell(s)] == [ref]
        service.mark_partners_told(s, Actor("cli", "t"), ref)
    with db.session() as s:
        assert service.withdrawals_to_tell(s) == []
        with pytest.raises(service.CodeRejected):
            service.open_with_code(s, receipt.code, receipt.pin)
        assert s.scalars(select(ReportHash)).all() == []


def test_platform_reports_are_idempotent_and_validated(db: Database,
                                                       cipher: FieldCipher) -> None:
    actor = Actor("token", "admin/platform#1", 1, frozenset({"reports:write"}))
    data = service.PlatformReportIn(
        incident_type="Child Sex Trafficking", urls=["https://example.com/ad/9"], urgent=True,
        external_ref="ext-1", hashes=[HashIn("md5", MD5.upper())])
    with db.session() as s:
        first, created = service.submit_platform(s, actor, data, cipher=cipher)
        assert created and first.hashes[0].value == MD5
    with db.session() as s:
        again, created = service.submit_platform(s, actor, data, cipher=cipher)
        assert not created and again.id == first.id
        item = s.get(TriageItem, again.triage_item_id)
        assert item is not None and item.source == "platform_report" and item.urgent
    with db.session() as s, pytest.raises(InvalidInput, match="CyberTipline"):
        service.submit_platform(s, actor, service.PlatformReportIn(
            incident_type="Something", urls=["https://example.com"]), cipher=cipher)
    with db.session() as s, pytest.raises(InvalidInput, match="md5"):
        service.submit_platform(s, actor, service.PlatformReportIn(
            hashes=[HashIn("md5", "abc")]), cipher=cipher)


def test_bad_child_input_stores_nothing(db: Database, cipher: FieldCipher) -> None:
    for bad in ({"details": "x" * 5001}, {"urls": ["ftp://example.org/a"]},
                {"what": ["not-a-choice"]}, {"age_band": "12"},
                {"hashes": [HashIn("pdq", "zz")]}):
        with db.session() as s, pytest.raises(InvalidInput):
            service.submit_child(s, service.ChildReportIn(**bad), cipher=cipher)  # type: ignore[arg-type]
    with db.session() as s, pytest.raises(SafeguardError, match="tell us something"):
        service.submit_child(s, service.ChildReportIn(), cipher=cipher)
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM reports")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM triage_items")).scalar_one() == 0


def test_retention_purges_old_reports_but_keeps_waiting_and_held_ones(
        db: Database, cipher: FieldCipher) -> None:
    from safeguard.cases import retention
    from safeguard.cases import service as cases

    waiting, assessed, held, recent = (_child(db, cipher) for _ in range(4))
    long_ago = utcnow() - timedelta(days=800)
    with db.session() as s:
        for receipt in (waiting, assessed, held):
            report = s.get(Report, receipt.report.id)
            assert report is not None and report.triage_item_id is not None
            report.updated_at = long_ago
            if receipt is not waiting:
                item = s.get(TriageItem, report.triage_item_id)
                assert item is not None
                item.status = ItemStatus.ASSESSED.value
        held_report = s.get(Report, held.report.id)
        assert held_report is not None
        case = cases.create_case(s, ANALYST, "held", [("url", "https://example.org/post/1")],
                                 cipher=cipher,
                                 triage_item_id=held_report.triage_item_id)
        retention.set_legal_hold(s, ANALYST, case.id, True, "court order 7")
    with db.session() as s:
        dry = retention.purge(s, ANALYST, {"reports": 730}, dry_run=True)
        assert [(r.data_type, r.count) for r in dry] == [("reports", 1)]
        assert s.get(Report, assessed.report.id) is not None
    with db.session() as s:
        retention.purge(s, ANALYST, {"reports": 730})
    with db.session() as s:
        gone = s.get(Report, assessed.report.id)
        assert gone is None
        assert s.scalars(select(ReportHash).where(
            ReportHash.report_id == assessed.report.id)).first() is None
        for kept in (waiting, held, recent):
            assert s.get(Report, kept.report.id) is not None
