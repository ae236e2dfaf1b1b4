"""Load and query the help directory.

The directory is a TOML file the operator edits. Every contact must cite a public source, so a
number shown to a child can always be checked; the loader refuses a file that breaks the rules
and names the entry at fault. Country names come from CLDR (Babel) in the reader's language.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).with_name("data") / "help_directory.toml"
KINDS = ("emergency", "helpline", "chat", "text")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^[0-9][0-9 \-]{1,24}$")


class DirectoryError(ValueError):
    """The help directory file is malformed; the message names the entry and the problem."""


@dataclass(frozen=True)
class Contact:
    kind: str
    name: str
    source: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None

    @property
    def tel(self) -> str | None:
        """The number for a ``tel:`` link (digits only)."""
        return re.sub(r"[^0-9]", "", self.phone) if self.phone else None


@dataclass(frozen=True)
class CountryHelp:
    country: str
    contacts: tuple[Contact, ...]

    @property
    def emergency(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.kind == "emergency")

    @property
    def support(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.kind != "emergency")


@dataclass(frozen=True)
class Directory:
    reviewed: str
    countries: dict[str, CountryHelp]

    def help_for(self, country: str | None) -> CountryHelp | None:
        if not country:
            return None
        return self.countries.get(country.strip().upper())


def _https(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme != "https" \
            or not urlsplit(value).netloc:
        raise DirectoryError(f"{where}: {field} must be an https:// address, got {value!r}")
    return value


def _contact(raw: Any, where: str) -> Contact:
    if not isinstance(raw, dict):
        raise DirectoryError(f"{where}: a contact must be a table")
    unknown = set(raw) - {"kind", "name", "source", "phone", "url", "hours"}
    if unknown:
        raise DirectoryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DirectoryError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DirectoryError(f"{where}: name is missing")
    if "source" not in raw:
        raise DirectoryError(f"{where} ({name}): source is missing; cite a public page that "
                             "states this contact, or leave the entry out")
    source = _https(raw["source"], f"{where} ({name})", "source")
    phone = raw.get("phone")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone)):
        raise DirectoryError(f"{where} ({name}): phone must be digits, spaces or dashes, "
                             f"got {phone!r}")
    url = _https(raw["url"], f"{where} ({name})", "url") if "url" in raw else None
    if phone is None and url is None:
        raise DirectoryError(f"{where} ({name}): give a phone, a url or both")
    hours = raw.get("hours")
    if hours is not None and not isinstance(hours, str):
        raise DirectoryError(f"{where} ({name}): hours must be text")
    return Contact(kind=kind, name=name.strip(), source=source, phone=phone, url=url,
                   hours=hours)


def _contacts(raw: Any, where: str) -> list[Contact]:
    if not isinstance(raw, list) or not raw:
        raise DirectoryError(f"{where}: contacts must be a non-empty list")
    return [_contact(item, f"{where} contact {i + 1}") for i, item in enumerate(raw)]


def _country_code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _COUNTRY.match(value):
        raise DirectoryError(f"{where}: country code must be two capital letters (ISO 3166), "
                             f"got {value!r}")
    return value


def parse_directory(text: str, origin: str = "help directory") -> Directory:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{origin}: not valid TOML: {exc}") from None
    own: dict[str, list[Contact]] = {}
    for i, raw in enumerate(data.get("countries", [])):
        where = f"{origin}: countries entry {i + 1}"
        if not isinstance(raw, dict):
            raise DirectoryError(f"{where}: must be a table")
        code = _country_code(raw.get("code"), where)
        if code in own:
            raise DirectoryError(f"{where}: {code} is listed twice")
        own[code] = _contacts(raw.get("contacts"), f"{origin}: {code}")
    inherited: dict[str, list[Contact]] = {}
    regions = data.get("regions", {})
    if not isinstance(regions, dict):
        raise DirectoryError(f"{origin}: regions must be a table")
    for region, raw in regions.items():
        where = f"{origin}: region {region}"
        if not isinstance(raw, dict) or not isinstance(raw.get("countries"), list):
            raise DirectoryError(f"{where}: needs a countries list")
        contacts = _contacts(raw.get("contacts"), where)
        for code in raw["countries"]:
            inherited.setdefault(_country_code(code, where), []).extend(contacts)
    countries = {}
    for code in sorted(set(own) | set(inherited)):
        mine = own.get(code, [])
        # A region's contact is skipped where the country already lists the same number.
        seen = {c.phone for c in mine if c.phone}
        extra = [c for c in inherited.get(code, []) if not (c.phone and c.phone in seen)]
        countries[code] = CountryHelp(code, tuple(mine + extra))
    reviewed = data.get("reviewed", "")
    return Directory(reviewed=str(reviewed), countries=countries)


def load_directory(path: Path | None = None) -> Directory:
    path = path or DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(f"cannot read the help directory {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DirectoryError(f"help directory {path} is not UTF-8 text") from None
    return parse_directory(text, str(path))


@cache
def _cached(path: Path | None) -> Directory:
    try:
        return load_directory(path)
    except DirectoryError:
        # A broken operator file must not take the portal down: children still get the
        # general advice. The operator sees this in the log and with `portal help-check`.
        log.exception("help directory unusable; the portal shows general advice only")
        return Directory(reviewed="", countries={})


def directory(path: Path | None = None) -> Directory:
    """The directory in use (read once per process and path: restart after editing it).
    Empty, with an error logged, if the file is unusable."""
    return _cached(path)


def help_for(country: str | None, path: Path | None = None) -> CountryHelp | None:
    """Contacts for `country` (ISO 3166 alpha-2, any case), or None where the directory has
    no entry: callers must then say so and point to the general advice, never guess."""
    return directory(path).help_for(country)


def is_country(code: str) -> bool:
    """A real ISO 3166 country or territory code, as CLDR knows them (not "ZZ" or a region)."""
    from babel import Locale

    return code.isalpha() and len(code) == 2 and code in Locale.parse("en").territories \
        and code not in {"ZZ", "EU", "EZ", "UN", "QO"}


def country_name(code: str, lang: str) -> str:
    from babel import Locale

    name = Locale.parse(lang).territories.get(code)
    return str(name) if name else code


def countries_for_chooser(lang: str, path: Path | None = None) -> list[tuple[str, str]]:
    """(code, name in `lang`) of every country with an entry, sorted by name as read."""
    names = [(code, country_name(code, lang)) for code in directory(path).countries]
    return sorted(names, key=lambda item: item[1].casefold())
