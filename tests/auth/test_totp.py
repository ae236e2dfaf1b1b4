"""Two-step sign-in: enrolment, codes accepted once, failures count towards lockout, the
secret encrypted at rest, and admins kept out of the console until it is on."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.auth import totp
from safeguard.config import Settings
from safeguard.db.encryption import FieldCipher, FieldKeyError, cipher_for, generate_key
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput

ROOT = Actor("cli", "test")
PW = "correct horse battery"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher([generate_key()])


def _enrolled(db: Database, cipher: FieldCipher, username: str = "ana") -> str:
    with db.session() as s:
        user = auth.create_user(s, ROOT, username, PW, "analyst")
        enrolment = totp.start_enrolment(s, ROOT, user, cipher)
        assert enrolment.secret not in (user.totp_secret or "")  # stored encrypted
        assert enrolment.qr_svg.startswith("<svg") and "otpauth://" in enrolment.uri
        totp.confirm_enrolment(s, ROOT, user, pyotp.TOTP(enrolment.secret).now(), cipher)
        user.totp_last_step = None  # let the tests below use the current code again
    return enrolment.secret


def _sign_in(db: Database, cipher: FieldCipher, code: str | None) -> None:
    with db.session() as s:
        auth.authenticate(s, "ana", PW, max_failures=3, lockout_seconds=60, totp_code=code,
                          cipher=cipher)


def test_a_code_is_needed_and_accepted_once(db: Database, cipher: FieldCipher) -> None:
    secret = _enrolled(db, cipher)
    with pytest.raises(auth.AuthError):
        _sign_in(db, cipher, None)
    code = pyotp.TOTP(secret).now()
    _sign_in(db, cipher, code)
    with pytest.raises(auth.AuthError):  # the same code, replayed
        _sign_in(db, cipher, code)


def test_wrong_codes_lock_the_account(db: Database, cipher: FieldCipher) -> None:
    _enrolled(db, cipher)
    for _ in range(3):
        with pytest.raises(auth.AuthError):
            _sign_in(db, cipher, "000000")
    with pytest.raises(auth.AccountLocked):
        _sign_in(db, cipher, None)


def test_clock_drift_of_one_step_is_tolerated(db: Database, cipher: FieldCipher) -> None:
    secret = _enrolled(db, cipher)
    with db.session() as s:
        user = auth.get_user(s, "ana")
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        far = pyotp.TOTP(secret).at(time.time() - 120)
        assert totp.check_code(user, earlier, cipher)
        assert not totp.check_code(user, far, cipher)
        assert not totp.check_code(user, "12 34", cipher)


def test_enrolment_needs_a_right_first_code(db: Database, cipher: FieldCipher) -> None:
    with db.session() as s:
        user = auth.create_user(s, ROOT, "bo", PW, "admin")
        totp.start_enrolment(s, ROOT, user, cipher)
        with pytest.raises(InvalidInput, match="not right"):
            totp.confirm_enrolment(s, ROOT, user, "123456", cipher)
        assert not user.totp_enabled
        assert auth.must_enrol_totp(user, "admin") and not auth.must_enrol_totp(user, "")
        totp.reset(s, ROOT, user)
        assert user.totp_secret is None


def test_field_keys_rotate(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    token = FieldCipher([old]).encrypt("secret value")
    rotated = FieldCipher([new, old]).rotate(token)
    assert FieldCipher([new]).decrypt(rotated) == "secret value"
    with pytest.raises(FieldKeyError, match="cannot decrypt"):
        FieldCipher([new]).decrypt(token)
    with pytest.raises(FieldKeyError, match="not a valid Fernet key"):
        FieldCipher(["not a key"])
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    made = cipher_for(settings)  # no key configured: one is made once, owner-only
    key_file = tmp_path / "field-keys"
    assert key_file.stat().st_mode & 0o077 == 0
    assert cipher_for(settings).decrypt(made.encrypt("x")) == "x"


def test_admin_must_set_up_two_step_before_using_the_console(app_client: Any) -> None:
    app_client.app.state.settings.totp_required_roles = "admin"
    page = app_client.get("/login")
    r = app_client.post("/login", data={"username": "admin", "password": PW},
                        follow_redirects=False)
    assert r.status_code == 303
    r = app_client.get("/console/banks", follow_redirects=False)
    assert r.headers["location"] == "/console/account/two-step"
    page = app_client.get("/console/account/two-step")
    assert "Your role needs two-step sign-in" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    page = app_client.post("/console/account/two-step/start", data={"csrf_token": csrf})
    secret = re.search(r'<code class="hash">([A-Z2-7]+)</code>', page.text).group(1)
    bad = app_client.post("/console/account/two-step/confirm",
                          data={"csrf_token": csrf, "code": "000000"})
    assert bad.status_code == 422 and "not right" in bad.text
    ok = app_client.post("/console/account/two-step/confirm", follow_redirects=False,
                         data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 303
    assert app_client.get("/console/banks").status_code == 200


def test_cli_resets_two_step(db: Database, cli_env: Settings, cipher: FieldCipher) -> None:
    from typer.testing import CliRunner

    from safeguard.cli.main import app

    _enrolled(db, cipher)
    result = CliRunner().invoke(app, ["user", "totp-reset", "ana"])
    assert result.exit_code == 0, result.output
    with db.session() as s:
        assert not auth.get_user(s, "ana").totp_enabled
    refused = CliRunner().invoke(app, ["user", "totp-reset", "nobody"])
    assert refused.exit_code != 0 and "nobody" in refused.output
