"""Banks, entries, merging, the change feed, import and export."""

from __future__ import annotations

import io
import json
import random

import pytest
from sqlalchemy import func, select

from safeguard.audit.models import AuditEvent
from safeguard.banks import feed, service, transfer
from safeguard.banks.formats import ImportRejected
from safeguard.banks.models import BankChange, BankEntry
from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput, NotFoundError
from tests.banks.support import ACTOR, random_pdq

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _audit_actions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_create_and_list_banks(db: Database) -> None:
    with db.session() as s:
        bank = service.create_bank(s, ACTOR, "known-a", description="demo", pdq_threshold=12,
                                   signal_types=["pdq", "video_md5"])
        service.create_bank(s, ACTOR, "fp", kind="negative")
    with db.session() as s:
        banks = {b.bank.name: b for b in service.list_banks(s)}
        assert banks["known-a"].bank.pdq_threshold == 12
        assert banks["known-a"].bank.signal_types == ["md5", "pdq"]
        assert banks["fp"].bank.kind == "negative"
        assert service.get_bank(s, bank.id).name == "known-a"
    assert _audit_actions(db).count("bank.create") == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"pdq_threshold": 32}, "0 to 31"),
    ({"pdq_threshold": -1}, "0 to 31"),
    ({"kind": "maybe"}, "positive"),
    ({"signal_types": ["photodna"]}, "unknown signal type"),
])
def test_create_bank_rejects_bad_settings(db: Database, kwargs: dict, message: str) -> None:
    with db.session() as s, pytest.raises(InvalidInput, match=message):
        service.create_bank(s, ACTOR, "b", **kwargs)


def test_bank_names_are_unique_and_validated(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "same")
    with db.session() as s, pytest.raises(ConflictError):
        service.create_bank(s, ACTOR, "same")
    with db.session() as s, pytest.raises(InvalidInput):
        service.create_bank(s, ACTOR, "")
    with db.session() as s, pytest.raises(NotFoundError):
        service.get_bank(s, "missing")


def test_default_threshold_comes_from_settings(db: Database) -> None:
    settings = Settings(default_pdq_threshold=20, _env_file=None)  # type: ignore[call-arg]
    with db.session() as s:
        assert service.create_bank(s, ACTOR, "d", settings=settings).pdq_threshold == 20


def test_enable_disable_and_update_are_audited(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
    with db.session() as s:
        service.set_enabled(s, ACTOR, "b", False)
        service.update_bank(s, ACTOR, "b", pdq_threshold=5, description="new")
    with db.session() as s:
        bank = service.get_bank(s, "b")
        assert (bank.enabled, bank.pdq_threshold, bank.description) == (False, 5, "new")
    assert _audit_actions(db)[-2:] == ["bank.update", "bank.update"]


def test_duplicate_hash_merges_tags_and_provenance(db: Database) -> None:
    h = random_pdq(random.Random(1))
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
        first = service.add_hash(s, ACTOR, "b", "pdq", h, tags=["a", "b"], source="hotline-1",
                                 source_id="r1")
    with db.session() as s:
        again = service.add_hash(s, ACTOR, "b", "pdq", h.upper(), tags=["b", "c"],
                                 source="hotline-2", source_id="r9")
        same_source = service.add_hash(s, ACTOR, "b", "pdq", h, tags=["a"], source="hotline-2",
                                       source_id="r9")
    assert first.id == again.id == same_source.id
    with db.session() as s:
        entry = s.get(BankEntry, first.id)
        assert entry is not None
        assert entry.tags == ["a", "b", "c"]
        assert (entry.source, entry.source_id) == ("hotline-1", "r1")
        assert [(p["source"], p["source_id"]) for p in entry.also_from] == [("hotline-2", "r9")]
    assert _count(db, BankEntry) == 1
    assert _count(db, BankChange) == 1  # a merge is not a new index entry


def test_add_hash_rejects_bad_input(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b", signal_types=["pdq"])
    for signal_type, value, message in [("pdq", "abc", "64 hex"), ("pdq", "g" * 64, "non-hex"),
                                        ("photodna", "a" * 64, "unknown signal type")]:
        with db.session() as s, pytest.raises(InvalidInput, match=message):
            service.add_hash(s, ACTOR, "b", signal_type, value)
    with db.session() as s, pytest.raises(InvalidInput, match="does not take md5"):
        service.add_hash(s, ACTOR, "b", "md5", MD5)
    with db.session() as s, pytest.raises(NotFoundError):
        service.add_hash(s, ACTOR, "nope", "pdq", "a" * 64)
    assert _count(db, BankEntry) == 0


def test_remove_entry_appends_to_feed(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
        entry = service.add_hash(s, ACTOR, "b", "pdq", "a" * 64)
    with db.session() as s:
        service.remove_entry(s, ACTOR, entry.id, "b")
    with db.session() as s:
        changes = feed.changes_since(s, 0)
        assert [(c.op.value, c.entry_id) for c in changes] == [("add", entry.id),
                                                               ("remove", entry.id)]
        assert [c.seq for c in changes] == [1, 2]
    with db.session() as s, pytest.raises(NotFoundError, match=str(entry.id)):
        service.remove_entry(s, ACTOR, entry.id)


def test_entry_ids_are_never_reused(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
        first = service.add_hash(s, ACTOR, "b", "pdq", "a" * 64)
    with db.session() as s:
        service.remove_entry(s, ACTOR, first.id)
    with db.session() as s:
        second = service.add_hash(s, ACTOR, "b", "pdq", "b" * 64)
    assert second.id > first.id


def test_import_is_all_or_nothing_and_lists_every_bad_line(db: Database) -> None:
    rng = random.Random(3)
    lines = [random_pdq(rng) for _ in range(50)]
    lines[9] = "zz"
    lines[30] = lines[30][:40]
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
    with db.session() as s, pytest.raises(ImportRejected) as err:
        transfer.import_file(s, ACTOR, "b", "\n".join(lines).encode(), filename="list.txt")
    assert [line for line, _ in err.value.problems] == [10, 31]
    assert "list.txt" in str(err.value)
    assert _count(db, BankEntry) == 0
    assert _count(db, BankChange) == 0


def test_import_non_utf8_lists_every_bad_line(db: Database) -> None:
    data = ("a" * 64 + "\n").encode() + b"\xff\xfe\n" + ("b" * 64).encode() + b"\n\xe9t\xe9\n"
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
    with db.session() as s, pytest.raises(ImportRejected) as err:
        transfer.import_file(s, ACTOR, "b", data)
    assert [line for line, _ in err.value.problems] == [2, 4]
    assert "not UTF-8" in str(err.value)


def test_import_merges_duplicates_and_audits_once(db: Database) -> None:
    rng = random.Random(4)
    hashes = [random_pdq(rng) for _ in range(20)]
    data = ("signal_type,value,tags,source\n"
            + "".join(f"pdq,{h},t1,feed-a\n" for h in hashes)
            + f"pdq,{hashes[0]},t2,feed-a\n").encode()
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
    with db.session() as s:
        result = transfer.import_file(s, ACTOR, "b", data, filename="x.csv")
    assert (result.added, result.merged) == (20, 0)
    with db.session() as s:
        again = transfer.import_file(s, ACTOR, "b", data, filename="x.csv")
    assert (again.added, again.merged) == (0, 20)
    assert _count(db, BankEntry) == 20
    with db.session() as s:
        tags = s.scalar(select(BankEntry.tags).where(BankEntry.value == hashes[0]))
        assert tags == ["t1", "t2"]
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "bank.import")))
    assert len(events) == 2
    assert events[0].details["added"] == 20 and events[1].details["merged"] == 20


def test_large_import_is_bulk(db: Database) -> None:
    rng = random.Random(5)
    data = "\n".join(random_pdq(rng) for _ in range(100_000)).encode()
    with db.session() as s:
        service.create_bank(s, ACTOR, "big")
    with db.session() as s:
        result = transfer.import_file(s, ACTOR, "big", data)
    assert result.added == 100_000
    with db.session() as s:
        assert feed.latest_seq(s) == 100_000
        assert len(service.list_entries(s, "big", limit=10)) == 10
    assert _audit_actions(db).count("bank.import") == 1


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "te-file", "lines"])
def test_export_round_trips_through_import(db: Database, fmt: str) -> None:
    rng = random.Random(6)
    with db.session() as s:
        service.create_bank(s, ACTOR, "src", signal_types=["pdq"])
        service.create_bank(s, ACTOR, "dst", signal_types=["pdq"])
        for i in range(5):
            service.add_hash(s, ACTOR, "src", "pdq", random_pdq(rng), tags=[f"t{i}"],
                             source="s", source_id=str(i), quality=90)
    out = io.StringIO()
    with db.session() as s:
        assert transfer.export_bank(s, ACTOR, "src", out, fmt) == 5
    with db.session() as s:
        transfer.import_file(s, ACTOR, "dst", out.getvalue().encode(), fmt=fmt)
    with db.session() as s:
        src = {e.value: e for e in service.list_entries(s, "src")}
        dst = {e.value: e for e in service.list_entries(s, "dst")}
        assert set(src) == set(dst)
        if fmt in ("csv", "jsonl"):
            assert all(dst[v].tags == src[v].tags and dst[v].source_id == src[v].source_id
                       and dst[v].quality == 90 for v in src)
    assert "bank.export" in _audit_actions(db)


def test_export_jsonl_shape(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
        service.add_hash(s, ACTOR, "b", "md5", MD5.upper(), tags="x y")
    out = io.StringIO()
    with db.session() as s:
        transfer.export_bank(s, ACTOR, "b", out, "jsonl")
    row = json.loads(out.getvalue())
    assert (row["signal_type"], row["value"], row["tags"]) == ("md5", MD5, ["x", "y"])


def test_export_unknown_format(db: Database) -> None:
    with db.session() as s:
        service.create_bank(s, ACTOR, "b")
    with db.session() as s, pytest.raises(InvalidInput, match="export format"):
        transfer.export_bank(s, ACTOR, "b", io.StringIO(), "xml")
