"""Keep the README's copies of the benchmark reports identical to the reports.

``run.py`` and ``reliability.py`` write ``benchmarks/results.md`` and
``benchmarks/reliability.md``; the README shows each between two markers::

    <!-- begin benchmarks/results.md -->
    ...
    <!-- end benchmarks/results.md -->

:func:`include` replaces what lies between them, so that the README's tables
are the scripts' output, never a hand-made copy (``tests/test_readme_blocks.py``
checks that they agree).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- begin {name} -->\n", f"<!-- end {name} -->"


def _span(readme: str, name: str) -> tuple[int, int] | None:
    """Where the text between the markers of ``name`` starts and stops, or None."""
    begin, end = markers(name)
    start = readme.find(begin)
    stop = readme.find(end, start + len(begin)) if start >= 0 else -1
    return None if start < 0 or stop < 0 else (start + len(begin), stop)


def block(readme: str, name: str) -> str | None:
    """The text between the markers of ``name`` (a path relative to the repository), or None."""
    span = _span(readme, name)
    return None if span is None else readme[span[0]:span[1]]


def include(report: Path, readme: Path = README) -> bool:
    """Copy ``report`` into ``readme`` between its markers; False when the README has none."""
    text = readme.read_text(encoding="utf-8")
    span = _span(text, report.resolve().relative_to(ROOT).as_posix())
    if span is None:
        return False
    readme.write_text(text[:span[0]] + report.read_text(encoding="utf-8") + text[span[1]:], encoding="utf-8")
    return True
