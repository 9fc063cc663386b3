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


def block(readme: str, name: str) -> str | None:
    """The text between the markers of ``name`` (a path relative to the repository), or None."""
    begin, end = markers(name)
    start = readme.find(begin)
    stop = readme.find(end, start + len(begin)) if start >= 0 else -1
    if start < 0 or stop < 0:
        return None
    return readme[start + len(begin):stop]


def include(report: Path, readme: Path = README) -> bool:
    """Copy ``report`` into ``readme`` between its markers; False when the README has none."""
    name = report.resolve().relative_to(ROOT).as_posix()
    text = readme.read_text(encoding="utf-8")
    old = block(text, name)
    if old is None:
        return False
    begin, _ = markers(name)
    start = text.index(begin) + len(begin)
    readme.write_text(text[:start] + report.read_text(encoding="utf-8") + text[start + len(old):], encoding="utf-8")
    return True
