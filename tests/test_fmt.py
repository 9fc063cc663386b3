"""``accessplan fmt``: the canonical layout, comments kept, meaning never changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accessplan.cli import main
from accessplan.errors import AccessplanError, ManifestError
from accessplan.fmt import MANIFEST_SHAPE, format_text
from accessplan.fmt_layout import Shape

REPO = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


CUSTOMER_IN = """\
# yaml-language-server: $schema=../schemas/accessplan.schema.json
customers:
    - products: [InsightIDR,InsightVM]   # what Globex pays for
      # the bank
      name: Globex Corporation
      id: globex
      groups:
      -   members: [bob@acme.example]
          name: SOC Tier 1


      # visible to tier 1
      logs: [dns-resolver]
      region: eu
version: 1
"""

CUSTOMER_OUT = """\
# yaml-language-server: $schema=../schemas/accessplan.schema.json
version: 1
customers:
  - id: globex
    # the bank
    name: Globex Corporation
    region: eu
    products: [InsightIDR, InsightVM]    # what Globex pays for

    # visible to tier 1
    logs: [dns-resolver]
    groups:
      - name: SOC Tier 1
        members: [bob@acme.example]
"""


def test_keys_take_the_spec_order_and_comments_move_with_them() -> None:
    assert format_text(CUSTOMER_IN, "c.yaml") == CUSTOMER_OUT


def test_formatting_the_canonical_layout_changes_nothing() -> None:
    assert format_text(CUSTOMER_OUT, "c.yaml") == CUSTOMER_OUT


def test_scalars_keep_their_quotes_and_block_scalars_are_reindented() -> None:
    text = 'grants:\n- customers: "*"\n  description: |\n        Incident 42:\n          night shift\n  users: [\'a@x.example\']\n'
    assert format_text(text, "g.yaml") == (
        "grants:\n"
        "  - description: |\n"
        "      Incident 42:\n"
        "        night shift\n"
        "    users: ['a@x.example']\n"
        '    customers: "*"\n'
    )


def test_user_chosen_keys_keep_their_order() -> None:
    text = "customers:\n- labels: {tier: gold, industry: finance}\n  id: globex\n"
    assert format_text(text, "c.yaml") == "customers:\n  - id: globex\n    labels: {tier: gold, industry: finance}\n"


def test_unknown_keys_follow_the_known_ones_as_written() -> None:
    text = "policy:\n  zeta: 1\n  expiry_warning: 7d\n  alpha: 2\n  min_platform_admins_per_customer: 1\n"
    assert format_text(text, "p.yaml") == "policy:\n  min_platform_admins_per_customer: 1\n  expiry_warning: 7d\n  zeta: 1\n  alpha: 2\n"


def test_anchors_aliases_and_document_markers_are_kept() -> None:
    text = "%YAML 1.2\n# head\n---\ngrants:\n- roles: &r [InsightIDR Admin]\n  users: [a@x.example]\n- roles: *r\n  users: [b@x.example]\n"
    assert format_text(text, "a.yaml") == (
        "%YAML 1.2\n# head\n---\ngrants:\n  - users: [a@x.example]\n    roles: &r [InsightIDR Admin]\n"
        "  - users: [b@x.example]\n    roles: *r\n"
    )


def test_a_file_of_comments_only_is_left_alone() -> None:
    assert format_text("# nothing here yet\n", "n.yaml") == "# nothing here yet\n"


def test_invalid_yaml_is_reported_with_its_position() -> None:
    with pytest.raises(ManifestError) as info:
        format_text("customers:\n  - id: a\n    id: b\n", "bad.yaml")
    assert info.value.render() == "bad.yaml:3:5: error: duplicate key 'id' (hint: each key may appear once in a mapping)"


def test_a_result_that_would_change_the_data_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from accessplan import fmt_layout

    monkeypatch.setattr(fmt_layout, "render", lambda text, doc, shape: "version: 2\n")
    with pytest.raises(AccessplanError) as info:
        format_text("version: 1\n", "v.yaml")
    assert info.value.render() == (
        "error: v.yaml: cannot format this file safely: the result would not hold the same data; it was left unchanged "
        "(hint: please report this, with the file)"
    )


def _model_fields(model: type, shape: Shape | None, path: str, missing: list[str]) -> None:
    from typing import get_args

    from pydantic import BaseModel

    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        if shape is None or shape.order is None:
            continue
        if name not in shape.order:
            missing.append(f"{path}.{name}")
        child = shape.child(name)
        inner = [a for a in _flatten(info.annotation, get_args) if isinstance(a, type) and issubclass(a, BaseModel)]
        for sub in inner:
            target = child.items if child is not None and child.items is not None else child
            _model_fields(sub, target, f"{path}.{name}", missing)


def _flatten(annotation: object, get_args: object) -> list[object]:
    from typing import get_args as args_of

    out: list[object] = [annotation]
    for arg in args_of(annotation):
        out += _flatten(arg, get_args)
    return out


def test_the_canonical_order_names_every_field_of_the_manifest_model() -> None:
    from accessplan.model import ManifestFile

    missing: list[str] = []
    _model_fields(ManifestFile, MANIFEST_SHAPE, "file", missing)
    assert missing == []


# --- the command ------------------------------------------------------------------------


@pytest.fixture()
def messy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "m"
    (root / "customers").mkdir(parents=True)
    (root / "customers" / "globex.yaml").write_text(CUSTOMER_IN, encoding="utf-8")
    (root / "tidy.yaml").write_text(CUSTOMER_OUT, encoding="utf-8")
    return root


def test_check_lists_the_files_that_would_change_and_exits_1(capsys: pytest.CaptureFixture[str], messy: Path) -> None:
    assert run(capsys, "fmt", "--check", "m") == (
        1,
        "m/customers/globex.yaml\n",
        "1 file would be reformatted: run 'accessplan fmt PATH'\n",
    )
    assert (messy / "customers" / "globex.yaml").read_text(encoding="utf-8") == CUSTOMER_IN


def test_check_with_diff_shows_the_change(capsys: pytest.CaptureFixture[str], messy: Path) -> None:
    code, out, _ = run(capsys, "fmt", "--check", "--diff", "m/customers/globex.yaml")
    assert code == 1
    assert out.startswith("m/customers/globex.yaml\n--- a/m/customers/globex.yaml\n+++ b/m/customers/globex.yaml\n@@ ")
    assert "-version: 1\n" in out and "+version: 1\n" in out


def test_fmt_rewrites_the_files_and_a_second_run_changes_nothing(capsys: pytest.CaptureFixture[str], messy: Path) -> None:
    assert run(capsys, "fmt", "m") == (0, "m/customers/globex.yaml\n", "")
    assert (messy / "customers" / "globex.yaml").read_text(encoding="utf-8") == CUSTOMER_OUT
    assert run(capsys, "fmt", "m") == (0, "", "")
    assert run(capsys, "fmt", "--check", "m") == (0, "", "")


def test_a_broken_file_is_reported_and_the_others_are_still_formatted(capsys: pytest.CaptureFixture[str], messy: Path) -> None:
    (messy / "broken.yaml").write_text("grants:\n  - users: [a@x.example\n", encoding="utf-8")
    code, out, err = run(capsys, "fmt", "m")
    assert (code, out) == (1, "m/customers/globex.yaml\n")
    assert err == "m/broken.yaml:3:1: error: invalid YAML: did not find expected ',' or ']'\n"


def test_missing_paths_and_empty_directories_are_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run(capsys, "fmt", "nowhere", "empty") == (
        1,
        "",
        "error: nowhere: no such file or directory (hint: check the path)\n"
        "error: empty: no manifest files (*.yaml, *.yml) found (hint: give a manifest file or directory)\n",
    )


def test_fmt_keeps_a_files_permissions(capsys: pytest.CaptureFixture[str], messy: Path) -> None:
    target = messy / "customers" / "globex.yaml"
    target.chmod(0o640)
    assert run(capsys, "fmt", "m")[0] == 0
    assert target.stat().st_mode & 0o777 == 0o640


def test_formatting_keeps_the_meaning_of_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate before and after: the same resources, the same diagnostics."""
    from accessplan.desired import desired_resources
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve
    from accessplan.validate import validate_path

    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "examples" / "mssp", tmp_path / "before")
    shutil.copytree(REPO / "examples" / "mssp", tmp_path / "after")
    assert main(["fmt", "after"]) == 0

    def resources(root: str) -> dict[str, object]:
        manifest = load_manifest(root)
        return desired_resources(manifest, resolve(manifest))

    assert resources("after") == resources("before")
    messages = [(d.severity, d.message) for d in validate_path("after").diagnostics]
    assert messages == [(d.severity, d.message) for d in validate_path("before").diagnostics]
    for path in sorted((tmp_path / "before").rglob("*.yaml")):
        comments = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip().startswith("#")]
        twin = tmp_path / "after" / path.relative_to(tmp_path / "before")
        assert sorted(comments) == sorted(ln.strip() for ln in twin.read_text(encoding="utf-8").splitlines() if ln.strip().startswith("#"))
