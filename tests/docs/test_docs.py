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
