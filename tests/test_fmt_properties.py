"""Properties of ``accessplan fmt`` on the example and on generated manifests.

* idempotent: a formatted file formats to itself;
* faithful: the data is the same and every comment is kept;
* canonical: the same data written with any key order and any indentation
  formats to the same text.

The inputs are the example's files, the files of a generated organisation
(``benchmarks/generate.py``), and those same data re-written by a small
emitter here with shuffled keys, random indentation, random flow or block
lists and comments sprinkled before entries and after values.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessplan import yamlsafe
from accessplan.fmt import MANIFEST_SHAPE, format_text
from accessplan.fmt_layout import Shape

REPO = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Corpus(list[tuple[str, str]]):
    """The files to format (a short repr: hypothesis prints it with each failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} manifest files>"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    out = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--size", "small", "--seed", "7", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    files = sorted((REPO / "examples" / "mssp").rglob("*.yaml")) + sorted(out.rglob("*.yaml"))
    assert len(files) > 50
    return Corpus((p.name, p.read_text(encoding="utf-8")) for p in files)


def comments(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for i, ch in enumerate(line):
            if ch == "#" and (i == 0 or line[i - 1] == " "):
                found.append(line[i:])
                break
    return sorted(found)


@SETTINGS
@given(pick=st.integers(min_value=0))
def test_formatting_is_idempotent_and_faithful(corpus: list[tuple[str, str]], pick: int) -> None:
    name, text = corpus[pick % len(corpus)]
    once = format_text(text, name)
    assert format_text(once, name) == once
    assert yamlsafe.load(once)[0] == yamlsafe.load(text)[0]
    assert comments(once) == comments(text)


# --- an emitter with every freedom a person has -------------------------------------------


class Emitter:
    """Writes data as YAML with random key order, indentation, list style and comments."""

    def __init__(self, rng: random.Random, *, shuffle: bool, comment_rate: float, style_seed: int = 0) -> None:
        self.rng, self.shuffle, self.comment_rate = rng, shuffle, comment_rate
        self.style_seed = style_seed  # flow or block lists: a choice of content, the same for every layout
        self.lines: list[str] = []
        self.count = 0

    def scalar(self, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return json.dumps(value)
        text = str(value)
        plain = text and text.isprintable() and text == text.strip() and yamlsafe._plain_scalar(text) == text
        if plain and not any(c in text for c in ":#,[]{}&*!|>'\"%@`") and text[0] not in "-?":
            return text
        return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")

    def comment(self, indent: int) -> None:
        if self.rng.random() < self.comment_rate:
            self.count += 1
            self.lines.append(" " * indent + f"# note {self.count}")

    def eol(self) -> str:
        if self.rng.random() < self.comment_rate:
            self.count += 1
            return f"  # after {self.count}"
        return ""

    def keys(self, data: dict[str, Any], shape: Shape | None) -> list[str]:
        keys = list(data)
        if self.shuffle and shape is not None and shape.order is not None:
            self.rng.shuffle(keys)
        return keys

    def inline(self, value: Any, path: str) -> str | None:
        """A flow rendering for empty collections and (sometimes) lists of scalars."""
        if value == [] or value == {}:
            return "[]" if value == [] else "{}"
        flow = random.Random(f"{self.style_seed}:{path}").random() < 0.5
        if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value) and flow:
            return "[" + ", ".join(self.scalar(v) for v in value) + "]"
        if isinstance(value, (list, dict)):
            return None
        return self.scalar(value)

    def mapping(self, data: dict[str, Any], indent: int, shape: Shape | None, first_prefix: str | None = None, path: str = "") -> None:
        step = self.rng.choice((2, 3, 4))
        for i, key in enumerate(self.keys(data, shape)):
            value = data[key]
            child = shape.child(key) if shape is not None else None
            lead = " " * indent if i or first_prefix is None else first_prefix
            if i or first_prefix is None:
                self.comment(indent)
            flat = self.inline(value, f"{path}/{key}")
            if flat is not None:
                self.lines.append(f"{lead}{self.scalar(key)}: {flat}{self.eol()}")
            elif isinstance(value, dict):
                self.lines.append(f"{lead}{self.scalar(key)}:{self.eol()}")
                self.mapping(value, indent + step, child, path=f"{path}/{key}")
            else:
                self.lines.append(f"{lead}{self.scalar(key)}:{self.eol()}")
                dash = indent if self.rng.random() < 0.3 else indent + step
                self.sequence(value, dash, child.items if child is not None else None, f"{path}/{key}")

    def sequence(self, items: list[Any], indent: int, shape: Shape | None, path: str) -> None:
        for i, item in enumerate(items):
            self.comment(indent)
            if isinstance(item, dict) and item and self.rng.random() < 0.8:
                self.mapping(item, indent + 2, shape, first_prefix=" " * indent + "- ", path=f"{path}/{i}")
            elif isinstance(item, dict) and item:
                self.lines.append(" " * indent + "-")  # the item's mapping starts on the next line
                self.mapping(item, indent + 2, shape, path=f"{path}/{i}")
            elif isinstance(item, list) and item:
                flat = self.inline(item, f"{path}/{i}")
                if flat is not None:
                    self.lines.append(" " * indent + "- " + flat + self.eol())
                else:
                    self.lines.append(" " * indent + "-" + self.eol())
                    self.sequence(item, indent + 2, None, f"{path}/{i}")
            else:
                self.lines.append(" " * indent + "- " + (self.inline(item, f"{path}/{i}") or "") + self.eol())

    def document(self, data: dict[str, Any]) -> str:
        self.mapping(data, 0, MANIFEST_SHAPE)
        return "\n".join(self.lines) + "\n"


@SETTINGS
@given(pick=st.integers(min_value=0), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_layout_of_the_same_data_formats_to_the_same_text(corpus: list[tuple[str, str]], pick: int, seed: int) -> None:
    name, text = corpus[pick % len(corpus)]
    data = yamlsafe.load(text)[0]
    rng = random.Random(seed)
    plain = Emitter(random.Random(0), shuffle=False, comment_rate=0, style_seed=seed).document(data)
    messy = Emitter(rng, shuffle=True, comment_rate=0, style_seed=seed).document(data)
    assert yamlsafe.load(messy)[0] == data
    assert format_text(messy, name) == format_text(plain, name)


@SETTINGS
@given(pick=st.integers(min_value=0), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_comments_anywhere_survive_and_formatting_settles(corpus: list[tuple[str, str]], pick: int, seed: int) -> None:
    name, text = corpus[pick % len(corpus)]
    data = yamlsafe.load(text)[0]
    commented = Emitter(random.Random(seed), shuffle=True, comment_rate=0.25).document(data)
    once = format_text(commented, name)
    assert format_text(once, name) == once
    assert yamlsafe.load(once)[0] == data
    assert comments(once) == comments(commented)


_KEYS = st.sampled_from(["id", "name", "users", "customers", "grants", "logs", "select", "labels", "x", "Zeta key", "é", "a:b", "#"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff\x85"), max_size=12),
    st.sampled_from(["*", "- x", "yes", "2027-02-30", "a # b", "'q'", '"d"', "1e3", "null", "~", "", " lead"]),
)
_DATA = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=25)


@SETTINGS
@given(data=st.dictionaries(_KEYS, _DATA, min_size=1, max_size=6), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_data_in_any_layout_formats_faithfully_and_settles(data: dict[str, Any], seed: int) -> None:
    emitter = Emitter(random.Random(seed), shuffle=True, comment_rate=0.3, style_seed=seed)
    text = emitter.document(data)
    assert yamlsafe.load(text)[0] == data
    once = format_text(text, "any.yaml")
    assert format_text(once, "any.yaml") == once
    assert yamlsafe.load(once)[0] == data
    for n in range(1, emitter.count + 1):  # every comment the emitter wrote, exactly once
        assert once.count(f"# note {n}\n") + once.count(f"# after {n}\n") == 1, n
