"""Matching: thresholds per bank, disabled and negative banks, quality, exact hashes, the
match log, files with query variants, and the live index."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from safeguard.banks import service as banks
from safeguard.banks import transfer
from safeguard.config import Settings
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput
from safeguard.matching import matchlog
from safeguard.matching import service as matching
from safeguard.matching.index_manager import IndexManager
from safeguard.matching.models import MatchLogEntry
from safeguard.matching.service import HashQuery
from tests.banks.support import ACTOR, benign_image, db, flip_bits, random_pdq  # noqa: F401

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture
def mgr(db: Database, tmp_path: Path) -> Iterator[IndexManager]:  # noqa: F811
    manager = IndexManager(db, tmp_path / "data").start()
    yield manager
    manager.stop()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


def _match(db: Database, mgr: IndexManager, *queries: tuple[str, str] | HashQuery,  # noqa: F811
           **kw: object) -> list[matching.QueryResult]:
    with db.session() as s:
        return matching.match_hashes(s, mgr, list(queries), ACTOR, **kw)  # type: ignore[arg-type]


def test_added_hash_matches_at_once_with_provenance(db: Database, mgr: IndexManager,  # noqa: F811
                                                   rng: random.Random) -> None:
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "known", pdq_threshold=31)
        entry = banks.add_hash(s, ACTOR, "known", "pdq", h, tags=["t"], source="hotline",
                               source_id="ref-1")
    [result] = _match(db, mgr, ("pdq", flip_bits(h, 10, rng)))
    [m] = result.matches
    assert (m.bank_name, m.entry_id, m.distance, m.suppressed) == ("known", entry.id, 10, False)
    assert m.provenance["source"] == "hotline" and m.provenance["tags"] == ["t"]
    assert m.provenance["added_by"] == "user:tester"
    assert result.matched


def test_per_bank_thresholds(db: Database, mgr: IndexManager, rng: random.Random) -> None:  # noqa: F811
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "strict", pdq_threshold=8)
        banks.create_bank(s, ACTOR, "loose", pdq_threshold=31)
        banks.add_hash(s, ACTOR, "strict", "pdq", h)
        banks.add_hash(s, ACTOR, "loose", "pdq", h)
    near, far = flip_bits(h, 8, rng), flip_bits(h, 20, rng)
    assert {m.bank_name for m in _match(db, mgr, ("pdq", near))[0].matches} == {"strict", "loose"}
    assert {m.bank_name for m in _match(db, mgr, ("pdq", far))[0].matches} == {"loose"}
    assert _match(db, mgr, ("pdq", flip_bits(h, 40, rng)))[0].matches == []


def test_disabled_bank_is_ignored_until_enabled(db: Database, mgr: IndexManager,  # noqa: F811
                                                rng: random.Random) -> None:
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        banks.add_hash(s, ACTOR, "b", "pdq", h)
        banks.add_hash(s, ACTOR, "b", "md5", MD5)
        banks.set_enabled(s, ACTOR, "b", False)
    assert all(not r.matches for r in _match(db, mgr, ("pdq", h), ("md5", MD5)))
    with db.session() as s:
        banks.set_enabled(s, ACTOR, "b", True)
    assert all(r.matches for r in _match(db, mgr, ("pdq", h), ("md5", MD5)))


def test_negative_bank_suppresses_with_reason(db: Database, mgr: IndexManager,  # noqa: F811
                                              rng: random.Random) -> None:
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "known")
        banks.create_bank(s, ACTOR, "false-positives", kind="negative", pdq_threshold=6)
        banks.add_hash(s, ACTOR, "known", "pdq", h)
        fp = banks.add_hash(s, ACTOR, "false-positives", "pdq", flip_bits(h, 4, rng))
    [result] = _match(db, mgr, ("pdq", h))
    positive = next(m for m in result.matches if m.bank_name == "known")
    assert positive.suppressed and positive.suppressed_by is not None
    assert positive.suppressed_by.entry_id == fp.id
    assert "false-positives" in positive.suppressed_by.reason
    assert not result.matched
    # Outside the negative bank's own threshold: not suppressed.
    far = flip_bits(h, 12, rng)
    [result] = _match(db, mgr, ("pdq", far))
    if not any(m.bank_kind == "negative" for m in result.matches):
        assert result.matched
    with db.session() as s:
        logged = s.scalars(select(MatchLogEntry).where(MatchLogEntry.suppressed.is_(True))).all()
        assert logged and "false-positives" in logged[0].suppressed_reason


def test_low_quality_is_flagged_not_dropped(db: Database, mgr: IndexManager,  # noqa: F811
                                            rng: random.Random) -> None:
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        banks.add_hash(s, ACTOR, "b", "pdq", h)
    [low, good] = _match(db, mgr, HashQuery("pdq", h, quality=20), HashQuery("pdq", h, 90))
    assert low.low_quality and low.matches
    assert not good.low_quality


def test_exact_hashes(db: Database, mgr: IndexManager) -> None:  # noqa: F811
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        banks.add_hash(s, ACTOR, "b", "md5", MD5)
        banks.add_hash(s, ACTOR, "b", "sha256", SHA)
    md5, sha, miss = _match(db, mgr, ("md5", MD5.upper()), ("sha256", SHA), ("md5", "0" * 32))
    assert md5.matches[0].distance == 0 and sha.matches[0].signal_type == "sha256"
    assert miss.matches == []


def test_bad_queries_are_all_named(db: Database, mgr: IndexManager) -> None:  # noqa: F811
    with pytest.raises(InvalidInput) as err:
        _match(db, mgr, ("pdq", "a" * 64), ("pdq", "xyz"), ("photodna", "a"), ("md5", "a" * 64))
    message = str(err.value)
    assert "hash 2" in message and "hash 3" in message and "hash 4" in message
    assert "hash 1" not in message


def test_batch_limit(db: Database, mgr: IndexManager) -> None:  # noqa: F811
    settings = Settings(max_batch_hashes=3, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(InvalidInput, match="limit is 3"):
        _match(db, mgr, *[("pdq", "a" * 64)] * 4, settings=settings)


def test_match_log_records_and_filters(db: Database, mgr: IndexManager,  # noqa: F811
                                       rng: random.Random) -> None:
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "a")
        banks.create_bank(s, ACTOR, "b")
        banks.add_hash(s, ACTOR, "a", "pdq", h)
        banks.add_hash(s, ACTOR, "b", "md5", MD5)
    _match(db, mgr, ("pdq", flip_bits(h, 3, rng)), source="api")
    _match(db, mgr, ("md5", MD5), source="cli")
    with db.session() as s:
        everything = matchlog.search(s, ACTOR)
        only_a = matchlog.search(s, ACTOR, bank="a")
        only_cli = matchlog.search(s, ACTOR, source="cli")
        page = matchlog.search(s, ACTOR, limit=1, offset=1)
    assert everything.total == 2
    [row] = only_a.items
    assert (row.bank_name, row.distance, row.actor, row.source) == ("a", 3, "user:tester", "api")
    assert only_cli.items[0].query_value == MD5
    assert page.total == 2 and len(page.items) == 1
    with pytest.raises(InvalidInput), db.session() as s:
        matchlog.search(s, ACTOR, source="email")


def test_match_file_reports_the_variant_that_matched(db: Database, mgr: IndexManager  # noqa: F811
                                                     ) -> None:
    from io import BytesIO

    from PIL import Image

    original = benign_image(11)
    mirrored = BytesIO()
    Image.open(BytesIO(original)).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, "PNG")
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b", pdq_threshold=31)
        banks.add_file(s, ACTOR, "b", original, label="orig.png", variants=False)
    with db.session() as s:
        exact = matching.match_file(s, mgr, original, ACTOR, label="orig.png")
        flipped = matching.match_file(s, mgr, mirrored.getvalue(), ACTOR, label="m.png")
    assert {m.signal_type for m in exact.matches} >= {"md5", "sha256", "pdq"}
    pdq = [m for m in flipped.matches if m.signal_type == "pdq"]
    assert pdq and pdq[0].query_variant != "original"
    assert not any(m.signal_type == "md5" for m in flipped.matches)
    with db.session() as s:
        logged = s.scalars(select(MatchLogEntry).where(MatchLogEntry.label == "m.png")).all()
        assert logged and logged[0].source == "file" and logged[0].query_variant != "original"


def test_bank_side_variants_are_linked_to_the_original(db: Database,  # noqa: F811
                                                       mgr: IndexManager) -> None:
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        entries = banks.add_file(s, ACTOR, "b", benign_image(12), label="x.png")
    pdq_original = next(e for e in entries if e.signal_type == "pdq" and e.variant == "original")
    variants = [e for e in entries if e.variant not in ("", "original")]
    assert variants and all(e.original_id == pdq_original.id for e in variants)


def test_corrupt_file_is_a_clear_error(db: Database, mgr: IndexManager) -> None:  # noqa: F811
    from safeguard.media.errors import MediaError

    png = benign_image(13)
    with db.session() as s, pytest.raises(MediaError, match="broken.png"):
        matching.match_file(s, mgr, png[: len(png) // 2], ACTOR, label="broken.png")


def test_add_then_match_under_load(db: Database, mgr: IndexManager,  # noqa: F811
                                   rng: random.Random) -> None:
    """A hash added while other threads hammer the matcher is found by the very next query."""
    background = [random_pdq(rng) for _ in range(2000)]
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        transfer.import_file(s, ACTOR, "b", "\n".join(background).encode())
    stop = threading.Event()
    errors: list[BaseException] = []

    def hammer() -> None:
        local = random.Random(threading.get_ident())
        while not stop.is_set():
            try:
                queries = [("pdq", random_pdq(local)) for _ in range(50)]
                with db.session() as s:
                    matching.match_hashes(s, mgr, queries, ACTOR)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(5):
            new = random_pdq(rng)
            with db.session() as s:
                banks.add_hash(s, ACTOR, "b", "pdq", new)
            [result] = _match(db, mgr, ("pdq", new))  # the very next query, no waiting
            assert result.matches and result.matches[0].distance == 0
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors


def test_index_restarts_from_file_and_catches_up_from_feed(db: Database,  # noqa: F811
                                                            tmp_path: Path,
                                                            rng: random.Random) -> None:
    data_dir = tmp_path / "idx"
    first = IndexManager(db, data_dir).start()
    hashes = [random_pdq(rng) for _ in range(10)]
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        transfer.import_file(s, ACTOR, "b", "\n".join(hashes).encode())
    first.stop()  # saves
    assert (data_dir / "pdq.index").exists()
    # Changes made while no server was running (another process): picked up from the feed.
    with db.session() as s:
        removed = banks.list_entries(s, "b", limit=1)[0]
        banks.remove_entry(s, ACTOR, removed.id)
        added = banks.add_hash(s, ACTOR, "b", "pdq", random_pdq(rng))
    second = IndexManager(db, data_dir).start()
    try:
        assert len(second) == 10
        assert added.id in second.index and removed.id not in second.index
    finally:
        second.stop()


def test_refresh_applies_only_the_delta(db: Database, rng: random.Random) -> None:  # noqa: F811
    manager = IndexManager(db)  # not started: nothing tells it about commits
    manager._build()
    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
        e = banks.add_hash(s, ACTOR, "b", "pdq", random_pdq(rng))
    assert len(manager) == 0
    assert manager.refresh() == 1 and e.id in manager.index
    assert manager.refresh() == 0
    with db.session() as s:
        banks.remove_entry(s, ACTOR, e.id)
    assert manager.refresh() == 1 and len(manager) == 0


def test_background_refresh_picks_up_changes(db: Database, rng: random.Random) -> None:  # noqa: F811
    manager = IndexManager(db)
    manager._build()
    stop = manager.run_in_background(0.05)
    try:
        with db.session() as s:
            banks.create_bank(s, ACTOR, "b")
            e = banks.add_hash(s, ACTOR, "b", "pdq", random_pdq(rng))
        deadline = time.monotonic() + 5
        while e.id not in manager.index and time.monotonic() < deadline:
            time.sleep(0.02)
        assert e.id in manager.index
    finally:
        stop()


def test_search_ignores_entries_missing_from_database(db: Database,  # noqa: F811
                                                      mgr: IndexManager) -> None:
    from safeguard.matching.index import hex_to_array

    with db.session() as s:
        banks.create_bank(s, ACTOR, "b")
    mgr.index.add(np.array([999_999], dtype=np.int64), hex_to_array(["c" * 64]))
    assert _match(db, mgr, ("pdq", "c" * 64))[0].matches == []
