"""Case codes and PINs: what a child keeps instead of an account (CR-02).

The code is 12 characters of Crockford base32 (60 random bits), the PIN 6 digits (~20 bits):
together ~80 bits, shown once. The code is stored as its SHA-256 (enough for a 60-bit random
value: nobody can enumerate 2^60 digests, and a leaked table does not reveal codes); the PIN with
Argon2 like passwords. Typing mistakes a child makes (lower case, spaces, dashes, O for 0, I or
L for 1) are forgiven when the code is read back.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 12
PIN_LENGTH = 6
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})

_hasher = PasswordHasher()
# Verified against when a code does not exist, so a wrong code and a wrong PIN take as long.
_DUMMY_PIN_HASH = _hasher.hash(secrets.token_urlsafe(8))


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))


def format_code(code: str) -> str:
    """ABCD-EFGH-JKMN: groups of four are easier to copy by hand."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _plain(text: str) -> str:
    """Full-width letters and digits of any script (Arabic-Indic ٠١٢, Devanagari, ...) as
    ASCII: a child types the code and PIN with the keyboard they have."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(c)) if not c.isascii()
                   and unicodedata.decimal(c, None) is not None else c for c in text)


def normalize_code(text: str) -> str | None:
    """The code as stored, or None when the text cannot be a code."""
    cleaned = "".join(_plain(text).split()).replace("-", "").upper().translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def normalize_pin(text: str) -> str | None:
    cleaned = "".join(_plain(text).split())
    if len(cleaned) != PIN_LENGTH or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def code_digest(code: str) -> str:
    # UTF-8: the same bytes as ASCII for real codes, and no crash on a forged one.
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def pin_matches(stored_hash: str | None, pin: str) -> bool:
    """Constant-time (Argon2 verify); runs the same work when there is no stored hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_PIN_HASH, pin) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
