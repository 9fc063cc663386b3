"""The fast reader must agree with the strict one wherever it is allowed to answer."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessplan import fastyaml, yamlsafe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

# Scalars chosen to probe where YAML readers disagree: core-schema numbers,
# YAML 1.1 leftovers, dates, specials, punctuation.
TRICKY = [
    "1", "-0", "+12", "017", "0o17", "0x1F", "0b101", "1_000", "1__0", "1.", ".5", "1e3", "1E3", "1e+3",
    "1.0e+3", ".inf", "-.Inf", ".NaN", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
    "yes", "no", "on", "off", "y", "n", "2026-02-30", "2027-03-31T18:00:00Z", "1:30", "12:30:45.5",
    "0.", "00", "09", "0o9", ".", "1,000", "=", "<<", "a b", "InsightIDR", "View Only", "fw-edge-1",
    "alice@acme.example", "x_1", "é", "*", "?odd?", "?", "a?", "|", ">", "x|", ">-x", ":x", "a: b", "a #b", "\u2028", "...", "-",
]


def _plain_ok(s: str) -> bool:
    return s not in {"*", ""} and not s.startswith(("-", "?", ":", "@", "`", "'", '"', "<<"))


scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
)


def render_scalar(s: str, quote: int) -> str:
    if quote == 1 or not _plain_ok(s) or any(c in s for c in "#{}[],&*!%@`\"'\\\n") or ": " in s or s != s.strip():
        return "'" + s.replace("'", "''") + "'"
    if quote == 2:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


@st.composite
def documents(draw: Any, depth: int = 0) -> str:
    """A block mapping of scalars, flow lists and nested mappings, as text."""
    keys = draw(st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=1, max_size=5, unique=True))
    indent = "  " * depth
    lines = []
    for key in keys:
        kind = draw(st.integers(0, 3 if depth < 3 else 1))
        if kind == 0:
            lines.append(f"{indent}{key}: {render_scalar(draw(scalars), draw(st.integers(0, 2)))}")
        elif kind == 1:
            items = draw(st.lists(scalars, max_size=4))
            lines.append(f"{indent}{key}: [{', '.join(render_scalar(i, draw(st.integers(0, 2))) for i in items)}]")
        elif kind == 2:
            lines.append(f"{indent}{key}:")
            for item in draw(st.lists(scalars, min_size=1, max_size=3)):
                lines.append(f"{indent}  - {render_scalar(item, draw(st.integers(0, 2)))}")
        else:
            lines.append(f"{indent}{key}:")
            lines.append(draw(documents(depth + 1)))
    return "\n".join(lines)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fast_reader_agrees_with_strict_reader(text: str) -> None:
    fast = fastyaml.load(text)
    try:
        strict, _ = yamlsafe.load(text)
    except yamlsafe.YAMLProblem:
        strict = None
    if fast is not None:
        assert same(fast, strict), text


@pytest.mark.parametrize(
    "text",
    [
        "a: !foo bar",
        "a: &x [1]\nb: *x",
        "%YAML 1.1\n---\na: 1",
        "a: 1\n---\nb: 2",
        "a: 1_000",
        "a: 0b101",
        "a: 1\na: 2",
        "a:\n\t- b",
        "",
        "- a\n- b",
        "a: {b: ?x}",
        "a: [{b: c}: d]",
        "a: |\n x",
        "a: >-\n x\n",
        "a: {b: >-x}",
        "a: [|x]",
        "a: {b: :x}",
        "a: [:x]",
    ],
)
def test_constructs_left_to_the_strict_reader(text: str) -> None:
    assert fastyaml.load(text) is None


def test_both_readers_agree_on_the_example_and_a_generated_org(tmp_path: Path) -> None:
    from generate import generate  # benchmarks/generate.py

    generate("small", tmp_path / "org")
    files = sorted((ROOT / "examples" / "mssp").rglob("*.yaml")) + sorted((tmp_path / "org").rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text()
        fast = fastyaml.load(text)
        assert fast is not None, f"{path} should take the fast path"
        assert same(fast, yamlsafe.load(text)[0]), path


@given(st.text(alphabet=st.sampled_from("0123456789b_ a:\n٣"), max_size=40))
@settings(max_examples=500)
def test_number_like_agrees_with_the_plain_pattern(text: str) -> None:
    # The split-based scan must find exactly what r"[0-9]_|0b[01]" finds (ASCII
    # digits only: '٣' is a digit to str.isdigit, not to YAML).
    import re

    assert fastyaml._number_like(text) == (re.search(r"[0-9]_|0b[01]", text) is not None)


@given(st.text(alphabet=st.sampled_from("[]{},: a\n\t"), max_size=40))
@settings(max_examples=1000)
def test_colon_after_flow_agrees_with_the_plain_patterns(text: str) -> None:
    import re

    expected = re.search(r"(?:[\[{,]|:[ ])[ ]*:", text) is not None or re.search(r"[\]}][ ]*:", text) is not None
    assert fastyaml._colon_after_flow(text) == expected
