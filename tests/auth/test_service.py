from __future__ import annotations

import pytest

from safeguard.audit.service import Actor, recent
from safeguard.auth import service
from safeguard.auth.models import Role
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput

ROOT = Actor("cli", "root")
PASSWORD = "correct horse battery"


def _user(db: Database, name: str = "ana", role: Role = Role.ANALYST) -> None:
    with db.session() as s:
        service.create_user(s, ROOT, name, PASSWORD, role)


def test_password_is_stored_as_argon2_and_verifies(db: Database) -> None:
    _user(db)
    with db.session() as s:
        user = service.get_user(s, "ana")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert service.authenticate(s, "ana", PASSWORD, max_failures=3, lockout_seconds=60)


@pytest.mark.parametrize("name,password,error", [
    ("ana", "short", InvalidInput), ("bad name!", PASSWORD, InvalidInput),
])
def test_bad_user_input_is_refused(db: Database, name: str, password: str,
                                   error: type[Exception]) -> None:
    with pytest.raises(error), db.session() as s:
        service.create_user(s, ROOT, name, password, Role.ANALYST)


def test_duplicate_username_conflicts(db: Database) -> None:
    _user(db)
    with pytest.raises(ConflictError), db.session() as s:
        service.create_user(s, ROOT, "ana", PASSWORD, Role.ADMIN)


def test_repeated_failures_lock_the_account_and_are_audited(db: Database) -> None:
    _user(db)
    for _ in range(3):
        with pytest.raises(service.AuthError), db.session() as s:
            service.authenticate(s, "ana", "wrong password!", max_failures=3, lockout_seconds=60)
    with pytest.raises(service.AccountLocked), db.session() as s:
        service.authenticate(s, "ana", PASSWORD, max_failures=3, lockout_seconds=60)
    with db.session() as s:
        actions = [e.action for e in recent(s, 10)]
    assert actions.count("login.failed") == 3
    assert "login.refused_locked" in actions


def test_unknown_user_and_wrong_password_give_the_same_answer(db: Database) -> None:
    _user(db)
    messages = []
    for name in ("ana", "nobody"):
        with pytest.raises(service.AuthError) as err, db.session() as s:
            service.authenticate(s, name, "wrong password!", max_failures=9, lockout_seconds=60)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_token_is_shown_once_stored_hashed_scoped_and_revocable(db: Database) -> None:
    _user(db)
    with db.session() as s:
        issued = service.create_token(s, ROOT, service.get_user(s, "ana"), "platform", ["match"])
        token_id = issued.token.id
        assert issued.secret not in (issued.token.token_hash, issued.token.prefix)
    with db.session() as s:
        actor = service.token_actor(service.resolve_token(s, issued.secret))
        assert actor.scopes == frozenset({"match"})
        service.revoke_token(s, ROOT, token_id)
    with pytest.raises(service.AuthError), db.session() as s:
        service.resolve_token(s, issued.secret)


def test_token_cannot_exceed_its_owner(db: Database) -> None:
    _user(db)
    with pytest.raises(InvalidInput, match="cannot grant admin"), db.session() as s:
        service.create_token(s, ROOT, service.get_user(s, "ana"), "t", ["admin"])
    with pytest.raises(InvalidInput, match="unknown scope"), db.session() as s:
        service.create_token(s, ROOT, service.get_user(s, "ana"), "t", ["everything"])


@pytest.mark.parametrize("role, allowed, refused", [
    ("supervisor", {"triage", "audit:read", "banks:write"}, {"admin"}),
    ("child_safety_analyst", {"triage", "match"}, {"banks:write", "audit:read"}),
    ("le_liaison", {"referrals:read"}, {"triage", "match", "banks:read"}),
    ("auditor", {"audit:read"}, {"triage", "match", "banks:write"}),
])
def test_roles_grant_only_their_scopes(db: Database, role: str, allowed: set[str],
                                       refused: set[str]) -> None:
    with db.session() as s:
        scopes = service.actor_for_user(service.create_user(s, ROOT, "u", PASSWORD, role)).scopes
    assert allowed <= scopes and not refused & scopes
