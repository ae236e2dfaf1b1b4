"""Encryption of personal fields at rest (Fernet: AES-128-CBC + HMAC-SHA256, from
`cryptography`), with key rotation.

Keys come from `SAFEGUARD_FIELD_KEYS` (comma-separated Fernet keys, newest first). When none is
configured, one is made on first use in DATA_DIR/field-keys (mode 0600), so `make run` works
without set-up; production deployments should set the variable from their secret store.
Rotation: put a new key first, keep the old ones after it; `FieldCipher.rotate` re-encrypts a
value under the newest key, and old keys can be dropped once every value was rotated.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from safeguard.config import Settings

KEY_FILE = "field-keys"


class FieldKeyError(RuntimeError):
    """A value cannot be decrypted with any configured key, or no key is usable."""


class FieldCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise FieldKeyError("no field encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise FieldKeyError("a field encryption key is not a valid Fernet key "
                                "(32 url-safe base64-encoded bytes)") from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise FieldKeyError("cannot decrypt a stored field with the configured keys "
                                "(was a key removed before rotation finished?)") from exc

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise FieldKeyError("cannot rotate a stored field: no configured key opens it") \
                from exc


def cipher_for(settings: Settings) -> FieldCipher:
    configured = [k for k in settings.field_keys.split(",") if k.strip()]
    return FieldCipher(configured or [_instance_key(settings.data_dir)])


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _instance_key(data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting together must not write two different keys
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_key() + "\n")
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise FieldKeyError(f"{path} holds no key")
    return lines[0]
