import re
from pathlib import Path

from safeguard.cli.config_doc import render

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_matches_the_settings() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == render(), (
        "docs/configuration.md is stale: run python -m safeguard.cli.config_doc "
        "> docs/configuration.md")


def test_readme_starts_with_exactly_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(path: Path) -> list[str]:
    targets = []
    for target in _LINK.findall(path.read_text()):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        targets.append(target.split("#", 1)[0])
    return [t for t in targets if t]


def test_relative_links_in_readme_and_docs_point_to_existing_files() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = [f"{page.relative_to(ROOT)} -> {target}"
              for page in pages for target in _relative_links(page)
              if not (page.parent / target).exists()]
    assert broken == [], "broken relative links: " + ", ".join(broken)
