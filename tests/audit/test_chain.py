from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from safeguard.audit.service import Actor, record, verify_chain
from safeguard.db.engine import Database

ALICE = Actor("user", "alice", 1, frozenset({"admin"}))


def _write(db: Database, n: int) -> None:
    with db.session() as s:
        for i in range(n):
            record(s, ALICE, "bank.create", "bank", i, name=f"bank {i}", note="é ünïcode")


def test_chain_of_writes_verifies(db: Database) -> None:
    _write(db, 5)
    with db.session() as s:
        result = verify_chain(s)
    assert result.ok, result.problems
    assert result.checked == 5


def test_event_rolls_back_with_the_change_it_describes(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        record(s, ALICE, "bank.create", "bank", 1)
        raise RuntimeError("the change failed")
    with db.session() as s:
        result = verify_chain(s)
    assert result.ok and result.checked == 0


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor = 'mallory'",
                                       "DELETE FROM audit_events"])
def test_database_refuses_to_edit_or_delete_events(db: Database, statement: str) -> None:
    _write(db, 2)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))


def _drop_guard(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))


def test_verify_names_an_edited_event(db: Database) -> None:
    _write(db, 4)
    _drop_guard(db)  # an attacker with database rights can do this; the chain still tells
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2"))
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok
    assert any("event 2" in p and "changed" in p for p in result.problems)


def test_verify_notices_a_deleted_middle_event_and_a_truncated_tail(db: Database) -> None:
    _write(db, 5)
    _drop_guard(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq IN (3, 5)"))
    with db.session() as s:
        problems = verify_chain(s).problems
    assert any("event 3: missing" in p for p in problems)
    assert any("removed from the end" in p for p in problems)


def test_concurrent_writers_keep_one_unbroken_chain(db: Database) -> None:
    import threading

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _write(db, 10)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.session() as s:
        result = verify_chain(s)
    assert result.ok, result.problems
    assert result.checked == 40
