"""Hostile and broken input: every case refused with one clear, positioned line.

One fixture per case under ``fixtures/validate/input/`` (cases that need a
symbolic link, a FIFO or a large file are made in a temporary directory). The
whole output of ``accessplan validate`` is asserted, and the resource cases are
measured in a separate process, as a user would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_support import FIXTURES, run

from accessplan import yamlsafe

CASES: dict[str, str] = {
    "all_collected": (
        "input/all_collected/a.yaml:3:7: error: 'Acme' is not a valid id (hint: ids are 1-63 lower-case letters, digits and '-', starting with a letter or digit)\n"
        "input/all_collected/a.yaml:5:11: error: unknown region 'mars' (hint: regions are us, us2, us3, eu, ca, au, ap, aps2, me1)\n"
        "input/all_collected/b.yaml:4:16: error: unknown product 'InsightIRD' (hint: did you mean 'InsightIDR'?)\n"
        "input/all_collected/b.yaml:5:43: error: protect: expected true or false, got the string 'yes' (hint: YAML 1.2 booleans are the words true and false, unquoted)\n"
        "input/all_collected/c.yaml:2:1: error: invalid YAML: did not find expected node content\n"
        "input/all_collected: invalid, 5 errors, 0 warnings\n"
    ),
    "billion_laughs.yaml": (
        "input/billion_laughs.yaml:6:8: error: aliases expand to more than 100,000 nodes (hint: this looks like an alias bomb; write the data out instead)\n"
        "input/billion_laughs.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "binary.yaml": (
        "input/binary.yaml: error: file is binary, not a YAML manifest (hint: give a YAML text file)\n"
        "input/binary.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "bool_on.yaml": (
        "input/bool_on.yaml:3:36: error: forbid_permanent_platform_admin: expected true or false, got the string 'on' (hint: YAML 1.2 booleans are the words true and false, unquoted)\n"
        "input/bool_on.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "bool_quoted.yaml": (
        "input/bool_quoted.yaml:3:36: error: forbid_permanent_platform_admin: expected true or false, got the string 'true' (hint: YAML 1.2 booleans are the words true and false, unquoted)\n"
        "input/bool_quoted.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "bool_yes.yaml": (
        "input/bool_yes.yaml:3:36: error: forbid_permanent_platform_admin: expected true or false, got the string 'yes' (hint: YAML 1.2 booleans are the words true and false, unquoted)\n"
        "input/bool_yes.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "comment_only.yaml": (
        "input/comment_only.yaml:1:1: error: file holds no data (hint: write a manifest mapping, starting with 'version: 1')\n"
        "input/comment_only.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "depth_64.yaml": (
        "input/depth_64.yaml:1:9: error: tests: expected a mapping, got a list\n"
        "input/depth_64.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "depth_65.yaml": (
        "input/depth_65.yaml:1:71: error: nesting deeper than 64 levels (hint: a manifest needs only a few levels; flatten the structure)\n"
        "input/depth_65.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "duplicate_key.yaml": (
        "input/duplicate_key.yaml:4:3: error: duplicate key 'min_platform_admins_per_customer' (hint: each key may appear once in a mapping)\n"
        "input/duplicate_key.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "empty.yaml": (
        "input/empty.yaml:1:1: error: file is empty (hint: remove it, or write a manifest into it, starting with 'version: 1')\n"
        "input/empty.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "integer_key.yaml": (
        "input/integer_key.yaml:2:1: error: mapping key 1 is not a string (hint: quote the key)\n"
        "input/integer_key.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "invalid_date.yaml": (
        "input/invalid_date.yaml:7:18: error: invalid date '2026-02-30': day is out of range for month (hint: write an existing date as YYYY-MM-DD)\n"
        "input/invalid_date.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "latin1.yaml": (
        "input/latin1.yaml:2:7: error: file is not valid UTF-8 (hint: save the file as UTF-8)\n"
        "input/latin1.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "missing_key.yaml": (
        "input/missing_key.yaml:3:3: error: missing required key 'name' (hint: add 'name' to this mapping)\n"
        "input/missing_key.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "multi_document.yaml": (
        "input/multi_document.yaml:2:1: error: more than one YAML document in one file (hint: put each document in its own file)\n"
        "input/multi_document.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "no_manifest": (
        "input/no_manifest: error: no manifest files (*.yaml, *.yml) found (hint: give a directory holding the manifest)\n"
        "input/no_manifest: invalid, 1 error, 0 warnings\n"
    ),
    "partner_missing.yaml": (
        "input/partner_missing.yaml:1:1: error: no 'partner' in the manifest (hint: declare the partner (the MSSP's own account) exactly once)\n"
        "input/partner_missing.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "partner_twice": (
        "input/partner_twice/b.yaml:1:1: error: 'partner' is declared twice (first at input/partner_twice/a.yaml:2) (hint: declare 'partner' in one file only)\n"
        "input/partner_twice: invalid, 1 error, 0 warnings\n"
    ),
    "policy_twice": (
        "input/policy_twice/b.yaml:1:1: error: 'policy' is declared twice (first at input/policy_twice/a.yaml:6) (hint: declare 'policy' in one file only)\n"
        "input/policy_twice: invalid, 1 error, 0 warnings\n"
    ),
    "skipped": (
        "input/skipped: valid, 0 errors, 0 warnings (0 customers, 2 partner users, 0 assignments)\n"
    ),
    "tab_indent.yaml": (
        "input/tab_indent.yaml:3:1: error: invalid YAML: found character that cannot start any token (hint: indent with spaces, not tabs)\n"
        "input/tab_indent.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "tag_local.yaml": (
        "input/tag_local.yaml:2:9: error: tag '!Foo' is not allowed (hint: manifests use plain YAML 1.2 core types; remove the tag)\n"
        "input/tag_local.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "tag_python.yaml": (
        "input/tag_python.yaml:2:10: error: tag '!!python/object/apply:os.system' is not allowed (hint: manifests use plain YAML 1.2 core types; remove the tag)\n"
        "input/tag_python.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "top_level_list.yaml": (
        "input/top_level_list.yaml:1:1: error: the top level of a manifest must be a mapping (hint: start with 'version: 1')\n"
        "input/top_level_list.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "unknown_alias.yaml": (
        "input/unknown_alias.yaml:2:12: error: alias '*nowhere' has no anchor before it\n"
        "input/unknown_alias.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "unknown_key.yaml": (
        "input/unknown_key.yaml:2:1: error: unknown key 'partnr' (hint: did you mean 'partner'?)\n"
        "input/unknown_key.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "utf16.yaml": (
        "input/utf16.yaml: error: file is not UTF-8 (it looks like UTF-16) (hint: save the file as UTF-8)\n"
        "input/utf16.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "version_2.yaml": (
        "input/version_2.yaml:1:10: error: expected 1, got 2\n"
        "input/version_2.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "version_missing.yaml": (
        "input/version_missing.yaml:1:1: error: missing required key 'version' (hint: add 'version: 1' to the file holding 'partner')\n"
        "input/version_missing.yaml: invalid, 1 error, 0 warnings\n"
    ),
    "yaml_1_1.yaml": (
        "input/yaml_1_1.yaml:1:1: error: %YAML 1.1 is not supported (hint: manifests are YAML 1.2; remove the %YAML directive)\n"
        "input/yaml_1_1.yaml: invalid, 1 error, 0 warnings\n"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_with_a_positioned_message(name: str) -> None:
    result = run("validate", f"input/{name}")
    assert result.out == CASES[name]
    assert result.err == ""
    assert result.code == (0 if ": valid, " in CASES[name] else 1)


def test_file_over_max_bytes() -> None:
    size = (FIXTURES / "rules" / "valid.yaml").stat().st_size
    result = run("validate", "--max-bytes", "100", "rules/valid.yaml")
    assert result.out == (
        f"rules/valid.yaml: error: file is {size:,} bytes, over the limit of 100 (hint: split the manifest "
        "into several files, or raise the limit with --max-bytes)\n"
        "rules/valid.yaml: invalid, 1 error, 0 warnings\n"
    )
    assert result.code == 1
    assert run("validate", "--max-bytes", str(size), "rules/valid.yaml").code == 0


def test_missing_path() -> None:
    result = run("validate", "rules/nope.yaml")
    assert result.out == (
        "rules/nope.yaml: error: no such file or directory (hint: check the path)\n"
        "rules/nope.yaml: invalid, 1 error, 0 warnings\n"
    )
    assert result.code == 1


def test_symbolic_links_and_special_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "partner.yaml").write_text((FIXTURES / "input" / "skipped" / "partner.yaml").read_text())
    (tmp_path / "elsewhere.yaml").write_text("not: [valid\n")
    (tmp_path / "m" / "link.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    (tmp_path / "m" / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tmp_path / "m" / "fifo.yaml")  # reading it would block forever
    result = run("validate", "m", cwd=tmp_path)
    assert result.out == "m: valid, 0 errors, 0 warnings (0 customers, 2 partner users, 0 assignments)\n"


_MEASURE = """
import contextlib, io, sys, time
from accessplan.cli import main
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["validate", sys.argv[1]])
elapsed = time.perf_counter() - start
# VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
peak_mb = int(hwm.split()[1]) / 1024
print(code, elapsed, peak_mb)
print(out.getvalue(), end="")
"""


def _measure(path: Path, cwd: Path) -> tuple[int, float, float, str]:
    """Exit code, seconds, peak memory (MB) and output of validate in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    first, _, output = done.stdout.partition("\n")
    code, seconds, peak = first.split()
    return int(code), float(seconds), float(peak), output


def test_billion_laughs_is_refused_quickly_in_little_memory() -> None:
    code, seconds, peak_mb, output = _measure(Path("input/billion_laughs.yaml"), FIXTURES)
    assert output == CASES["billion_laughs.yaml"]
    assert code == 1
    assert seconds < 1.0
    assert peak_mb < 100  # the whole process, Python and pydantic included


def test_hundred_thousand_deep_nesting_is_refused_quickly(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    code, seconds, peak_mb, output = _measure(Path("deep.yaml"), tmp_path)
    assert output == (
        "deep.yaml:1:65: error: nesting deeper than 64 levels (hint: a manifest needs only a few levels; "
        "flatten the structure)\n"
        "deep.yaml: invalid, 1 error, 0 warnings\n"
    )
    assert code == 1
    assert seconds < 1.0
    assert peak_mb < 100


# --- the reader itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: yes", "yes"),
        ("a: on", "on"),
        ("a: No", "No"),
        ("a: true", True),
        ("a: False", False),
        ("a: ~", None),
        ("a:", None),
        ("a: 0o17", 15),
        ("a: 0x1F", 31),
        ("a: 017", 17),
        ("a: 1_000", "1_000"),
        ("a: 1:20", "1:20"),
        ("a: 2026-02-30", "2026-02-30"),
        ("a: .inf", float("inf")),
        ("a: 1.5e3", 1500.0),
        ("a: !!str 12", "12"),
        ("a: !!int 12", 12),
        ('a: "true"', "true"),
        ("a: ! 12", "12"),
    ],
)
def test_yaml_1_2_core_schema(text: str, value: object) -> None:
    data, _ = yamlsafe.load(text)
    assert data == {"a": value}
    assert type(data["a"]) is type(value)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("a: !!int twelve", "'twelve' is not a valid !!int", 1, 4),
        ("a: !!binary aGk=", "tag '!!binary' is not allowed", 1, 4),
        ("a: !!set {x}", "tag '!!set' is not allowed", 1, 4),
        ("a: &x [*x]", "alias '*x' refers to a node that contains it", 1, 8),
        ("%YAML 1.2\n---\na: [1\n", "invalid YAML: did not find expected ',' or ']'", 4, 1),
        ("? [a]\n: b\n", "a mapping key must be a plain string, not a collection", 1, 3),
    ],
)
def test_reader_problems(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(yamlsafe.YAMLProblem) as caught:
        yamlsafe.load(text)
    assert (caught.value.message, caught.value.line, caught.value.column) == (message, line, column)


def test_aliases_up_to_the_limit_are_fine() -> None:
    def text(references: int) -> str:
        # The anchored list is 1,000 nodes (itself and 999 items); each alias reaches all of them.
        return "a: &a [" + ", ".join(["x"] * 999) + "]\nb: [" + ", ".join(["*a"] * references) + "]\n"

    data, _ = yamlsafe.load(text(100))  # exactly 100,000 nodes through aliases
    assert len(data["b"]) == 100
    with pytest.raises(yamlsafe.YAMLProblem) as caught:
        yamlsafe.load(text(101))
    assert caught.value.message == "aliases expand to more than 100,000 nodes"


def test_depth_limit_is_exact() -> None:
    yamlsafe.load("[" * 64 + "]" * 64)
    with pytest.raises(yamlsafe.YAMLProblem) as caught:
        yamlsafe.load("[" * 65 + "]" * 65)
    assert (caught.value.message, caught.value.line, caught.value.column) == ("nesting deeper than 64 levels", 1, 65)


def test_positions_are_kept_only_when_asked() -> None:
    text = "a:\n  - x\n  - {b: 1}\n"
    data, smap = yamlsafe.load(text)
    assert data == {"a": ["x", {"b": 1}]} and smap.nodes == {}
    _, smap = yamlsafe.load(text, positions=True)
    assert smap.nodes[("a", 1, "b")] == (3, 9)
    assert smap.keys[("a", 1, "b")] == (3, 6)
    assert json.dumps(data)  # plain data only


# --- differential: the reader against PyYAML on plain documents -----------------------



def _plain_in_both(text: str) -> bool:
    """Strings YAML 1.1 and 1.2 both read as strings when written plain.

    PyYAML writes YAML 1.1: it quotes what 1.1 would read as another type
    (``yes``, ``1:20``) but writes ``0o17`` plain, which YAML 1.2 reads as an
    int. That is the documented difference between the versions, tested above;
    here only strings on which both agree are generated. ``<<`` and ``=`` are
    YAML 1.1 merge and value keys, which YAML 1.2 does not have.
    """
    return isinstance(yamlsafe._plain_scalar(text), str) and text not in {"<<", "="}


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12).filter(_plain_in_both)
_SCALARS = st.one_of(_TEXT, st.integers(), st.booleans(), st.none())
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_TEXT, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(document=st.dictionaries(_TEXT, _DOCUMENTS, max_size=6), flow=st.sampled_from([None, True, False]))
def test_reader_agrees_with_pyyaml_on_plain_documents(document: dict[str, object], flow: bool | None) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    ours, _ = yamlsafe.load(text)
    theirs = yaml.load(text, Loader=yaml.SafeLoader)
    assert ours == theirs  # (PyYAML's own round trip is lossy for a few line breaks such as U+0085)
    with_positions, _ = yamlsafe.load(text, positions=True)
    assert with_positions == ours
