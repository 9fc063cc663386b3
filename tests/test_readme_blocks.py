"""The README's benchmark and reliability tables are the scripts' own reports, not copies made by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from readme_block import block, include  # noqa: E402


@pytest.mark.parametrize("report", ["benchmarks/results.md", "benchmarks/history.md", "benchmarks/reliability.md"])
def test_readme_shows_the_report_verbatim(report: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = block(readme, report)
    assert shown is not None, f"README.md has no '<!-- begin {report} -->' block"
    assert shown == (ROOT / report).read_text(encoding="utf-8"), f"run the script again or copy {report} into README.md"


def test_include_replaces_only_the_marked_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- begin benchmarks/results.md -->\nold\n<!-- end benchmarks/results.md -->\noutro\n", encoding="utf-8")
    assert include(ROOT / "benchmarks" / "results.md", readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- begin benchmarks/results.md -->\n<!-- written by benchmarks/run.py")
    assert text.endswith("<!-- end benchmarks/results.md -->\noutro\n") and "\nold\n" not in text
    readme.write_text("no markers here\n", encoding="utf-8")
    assert not include(ROOT / "benchmarks" / "results.md", readme)
    assert readme.read_text(encoding="utf-8") == "no markers here\n"
