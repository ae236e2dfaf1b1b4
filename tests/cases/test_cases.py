"""Cases: items and their link keys, assessments, encrypted notes, the state machine and the
undo window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.audit.service import Actor, recent
from safeguard.cases import service as cases
from safeguard.cases.case_models import CaseNote, ItemKind
from safeguard.cases.link_keys import account_key, keys_for
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput

ANA = Actor("user", "ana", 1)
BO = Actor("user", "bo", 2)
CIPHER = FieldCipher([generate_key()])
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_link_keys_normalise_what_analysts_paste() -> None:
    assert keys_for(ItemKind.URL, "HTTPS://WWW.Example.org/a#x") == [
        "url:https://www.example.org/a", "domain:example.org"]
    assert keys_for(ItemKind.HASH, f"MD5:{MD5.upper()}") == [f"md5:{MD5}"]
    assert account_key("+44 20 7946 0958") == "phone:+442079460958"
    assert account_key("020 7946 0958", region="GB") == "phone:+442079460958"
    assert account_key("Someone@Example.org") == "email:someone@example.org"
    assert account_key("@Some.Handle") == "handle:some.handle"
    assert keys_for(ItemKind.TEXT, "free text") == []
    for kind, bad in [(ItemKind.URL, "ftp://x"), (ItemKind.HASH, "pdq:zz"),
                      (ItemKind.ACCOUNT, "not an account!"), (ItemKind.URL, " ")]:
        with pytest.raises(InvalidInput):
            keys_for(kind, bad)


@given(st.text(max_size=60), st.sampled_from(list(ItemKind)))
def test_link_keys_never_crash(value: str, kind: ItemKind) -> None:
    try:
        keys = keys_for(kind, value)
    except InvalidInput:
        return
    assert all(isinstance(k, str) and ":" in k for k in keys)


def test_cases_sharing_keys_are_linked(db: Database) -> None:
    with db.session() as s:
        a = cases.create_case(s, ANA, "case a", [("url", "https://example.org/one"),
                                                 ("account", "+44 20 7946 0958")],
                              cipher=CIPHER).id
        b = cases.create_case(s, ANA, "case b", [("url", "https://www.example.org/two")],
                              cipher=CIPHER).id
        c = cases.create_case(s, ANA, "case c", [("account", "+442079460958"),
                                                 ("url", "https://example.org/one")],
                              cipher=CIPHER).id
        cases.create_case(s, ANA, "unrelated", [("hash", f"md5:{MD5}")], cipher=CIPHER)
    with db.session() as s:
        links = cases.linked_cases(s, a)
        assert [link.case.id for link in links] == [c, b]
        assert links[0].shared == ["domain:example.org", "phone:+442079460958",
                                   "url:https://example.org/one"]
        assert links[1].shared == ["domain:example.org"]
        assert s.get(type(links[0].case), a).reference.startswith("SG-")


def test_text_items_and_notes_are_encrypted_and_reading_notes_is_audited(db: Database) -> None:
    with db.session() as s:
        case = cases.create_case(s, ANA, "case", [("text", "what the child wrote")],
                                 cipher=CIPHER)
        cases.add_note(s, ANA, case.id, "called the platform", cipher=CIPHER)
        [item] = cases.items(s, case.id)
        assert "what the child wrote" not in item.value
        assert cases.item_value(item, CIPHER) == "what the child wrote"
        assert "called" not in s.query(CaseNote).one().text
        [(note, text)] = cases.read_notes(s, BO, case.id, cipher=CIPHER)
        assert text == "called the platform" and note.author == str(ANA)
        assert recent(s, limit=1)[0].action == "case.notes_read"
        with pytest.raises(InvalidInput):
            cases.add_note(s, ANA, case.id, "  ", cipher=CIPHER)


def test_assessment_vocabulary(db: Database) -> None:
    with db.session() as s:
        case = cases.create_case(s, ANA, "case", [("hash", f"md5:{MD5}")], cipher=CIPHER)
        [item] = cases.items(s, case.id)
        cases.assess_item(s, ANA, item.id, "baseline", age_group="pre_pubescent",
                          industry_class="A2")
        assert (item.classification, item.industry_class) == ("baseline", "A2")
        with pytest.raises(InvalidInput, match="industry class applies only"):
            cases.assess_item(s, ANA, item.id, "not_illegal", industry_class="B1")
        with pytest.raises(InvalidInput, match="age group"):
            cases.assess_item(s, ANA, item.id, "baseline", age_group="teen")


def test_state_machine_and_undo(db: Database) -> None:
    with db.session() as s:
        case_id = cases.create_case(s, ANA, "case", cipher=CIPHER).id
    with db.session() as s:
        with pytest.raises(ConflictError, match="cannot become referred"):
            cases.change_status(s, ANA, case_id, "referred")
        with pytest.raises(ConflictError, match="needs an assessed case"):
            cases.change_status(s, ANA, case_id, "closed", outcome="removed")
        with pytest.raises(ConflictError, match="needs an outcome"):
            cases.change_status(s, ANA, case_id, "closed")
        for status in ("in_triage", "assessed", "referred"):
            cases.change_status(s, ANA, case_id, status)
        with pytest.raises(ConflictError, match="only the analyst"):
            cases.undo_last_decision(s, BO, case_id)
        assert cases.undo_last_decision(s, ANA, case_id).status == "assessed"
        cases.change_status(s, ANA, case_id, "closed", outcome="not_illegal", reason="art")
        case = cases.get_case(s, case_id)
        assert (case.status, case.outcome) == ("closed", "not_illegal")
        cases.undo_last_decision(s, ANA, case_id)
        assert (case.status, case.outcome) == ("assessed", None)
        cases.change_status(s, ANA, case_id, "closed", outcome="duplicate")
        with pytest.raises(ConflictError, match="can be undone for"):
            cases.undo_last_decision(s, ANA, case_id, window=timedelta(0))
        cases.change_status(s, BO, case_id, "in_triage", reason="reopened")
        assert [d.to_status for d in cases.decisions(s, case_id)] == [
            "in_triage", "assessed", "referred", "closed", "closed", "in_triage"]
