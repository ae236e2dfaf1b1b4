"""Collect the portal's translatable strings and update the catalogues.

    python -m safeguard.web.i18n_extract           # write messages.pot, update every messages.po
    python -m safeguard.web.i18n_extract --check   # exit 1 if a catalogue lacks a string

Sources: ``{{ _("...") }}`` / ``ngettext`` in ``templates/portal/**`` (Jinja's own extractor,
so the template syntax is parsed, not pattern-matched), ``_("...")`` in the portal's Python
modules (Babel's Python extractor) and, from the help directory, the opening hours and the
names of emergency services, which the help page translates. New strings are added to each PO
file with an empty ``msgstr``; nothing is guessed (no fuzzy matching), so the completeness
test names exactly what is missing.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment
from jinja2.ext import extract_from_ast

from safeguard.help.directory import DEFAULT_PATH as HELP_DIRECTORY
from safeguard.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALES_DIR
from safeguard.web.templating import TEMPLATES_DIR

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATE_GLOBS = ("portal/**/*.html", "portal/*.html")
# Python modules whose `_()` calls are child-facing text.
PYTHON_GLOBS = ("web/pages_portal*.py", "web/pages_report*.py", "web/portal*.py",
                "web/poster.py", "reports/**/*.py", "help/**/*.py")
POT = LOCALES_DIR / "messages.pot"


@dataclass(frozen=True)
class Message:
    msgid: str | tuple[str, str]
    location: tuple[str, int]


def _templates() -> Iterator[Path]:
    seen: set[Path] = set()
    for pattern in TEMPLATE_GLOBS:
        for path in sorted(TEMPLATES_DIR.glob(pattern)):
            if path not in seen:
                seen.add(path)
                yield path


def from_templates() -> Iterator[Message]:
    env = Environment(autoescape=True)
    for path in _templates():
        tree = env.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(PACKAGE))
        for lineno, func, message in extract_from_ast(tree, ("_", "gettext", "ngettext")):
            strings = message if isinstance(message, tuple) else (message,)
            constant = [s for s in strings if isinstance(s, str)]
            if func == "ngettext" and len(constant) >= 2:
                yield Message((constant[0], constant[1]), (where, lineno))
            elif func != "ngettext" and constant:
                yield Message(constant[0], (where, lineno))


def from_python() -> Iterator[Message]:
    seen: set[Path] = set()
    for pattern in PYTHON_GLOBS:
        for path in sorted(PACKAGE.glob(pattern)):
            if path in seen or path.name == "i18n_extract.py":
                continue
            seen.add(path)
            where = str(path.relative_to(PACKAGE))
            with path.open("rb") as handle:
                for lineno, _func, message, _comments in extract_python(
                        handle, {"_": None}, [], {}):
                    if isinstance(message, str) and message:
                        yield Message(message, (where, lineno))


def from_help_directory(path: Path = HELP_DIRECTORY) -> Iterator[Message]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    groups: list[dict] = list(data.get("countries", []))
    groups += list(data.get("regions", {}).values())
    where = str(path.relative_to(PACKAGE))
    for group in groups:
        for contact in group.get("contacts", []):
            if contact.get("hours"):
                yield Message(contact["hours"], (where, 0))
            # Emergency services have generic names ("Emergency services"); helplines keep
            # their own names, which are not translated.
            if contact.get("kind") == "emergency" and contact.get("name"):
                yield Message(contact["name"], (where, 0))


def collect() -> list[Message]:
    return [*from_templates(), *from_python(), *from_help_directory()]


def template_catalog(messages: Iterable[Message]) -> Catalog:
    catalog = Catalog(project="safeguard-portal", msgid_bugs_address="", fuzzy=False)
    for message in messages:
        existing = catalog.get(message.msgid)
        if existing is not None:
            existing.locations.append(message.location)
        else:
            catalog.add(message.msgid, locations=[message.location])
    return catalog


def msgids(messages: Iterable[Message]) -> set[str]:
    """The key each message is looked up by (a plural's singular form)."""
    return {m.msgid[0] if isinstance(m.msgid, tuple) else m.msgid for m in messages}


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"


def missing_translations(messages: list[Message]) -> dict[str, list[str]]:
    """Per language, the msgids that have no (non-fuzzy, non-empty) translation."""
    from safeguard.web.i18n import catalogue

    catalogue.cache_clear()
    missing: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        cat = catalogue(lang)
        gaps = []
        for message in messages:
            if isinstance(message.msgid, tuple):
                if message.msgid[0] not in cat.plural:
                    gaps.append(message.msgid[0])
            elif message.msgid not in cat.singular:
                gaps.append(message.msgid)
        missing[lang] = sorted(set(gaps))
    return missing


def update() -> None:
    template = template_catalog(collect())
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as handle:
        write_po(handle, template, width=100, sort_output=False, omit_header=False)
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        path = po_path(lang)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="safeguard-portal", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--check":
        missing = missing_translations(collect())
        for lang, gaps in missing.items():
            for msgid in gaps:
                print(f"{lang}: missing {msgid!r}")
        return 1 if any(missing.values()) else 0
    update()
    messages = collect()
    print(f"{len(msgids(messages))} strings; catalogues updated in {LOCALES_DIR}")
    for lang, gaps in missing_translations(messages).items():
        print(f"  {lang}: {len(gaps)} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
