"""Writes docs/configuration.md from the Settings model, so the doc cannot drift from the code.

    python -m safeguard.cli.config_doc > docs/configuration.md
"""

from __future__ import annotations

from safeguard.config import Settings


def render() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable `SAFEGUARD_<NAME>` (or a line in `.env` /",
        "`safeguard.env` in the working directory). Generated from `safeguard/config.py` by",
        "`python -m safeguard.cli.config_doc`.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default if field.default is not None else ""
        desc = (field.description or "").replace("|", "\\|")
        lines.append(f"| `SAFEGUARD_{name.upper()}` | `{default}` | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
