"""The referral directory is a file the operator edits by hand: whatever it holds, loading it
gives a directory or a clear InvalidInput, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.cases.referral import Directory
from safeguard.errors import InvalidInput

_scalar = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.floats(
    allow_nan=False, allow_infinity=False))
_value = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["country", "name", "contact", "source", "liaisons", "x"]), inner,
        max_size=5)), max_leaves=12)


def _toml(value: object) -> str:
    import json

    # JSON scalars, arrays and inline tables are valid TOML values (strings escape alike).
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@settings(max_examples=200, deadline=None)
@given(police=st.one_of(st.none(), _value), hotline=st.one_of(st.none(), _value))
def test_any_directory_loads_or_is_refused_clearly(police: object, hotline: object) -> None:
    lines = []
    if police is not None:
        lines.append(f"police = {_toml(police)}")
    if hotline is not None:
        lines.append(f"hotline = {_toml(hotline)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "partners.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        try:
            directory = Directory.load(path)
        except InvalidInput as exc:
            assert str(path) in str(exc)
            return
    for partner in directory.hotlines.values():
        assert len(partner.country) == 2 and partner.name and partner.contact
        assert all(isinstance(u, str) and u for u in partner.liaisons)
