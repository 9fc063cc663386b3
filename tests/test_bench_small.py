"""``benchmarks/run.py`` at the small size, once: the report it writes for the README keeps its shape.

The full benchmark (``make bench``) takes minutes and its numbers depend on the
machine; this proves only that every command, the floor, the naive design and
the phase profile still run and land in the report, so that the README's
performance section can always be reproduced.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_py_writes_every_table_at_the_small_size(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "small", "--runs", "1", "--naive-cap", "120", "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!-- written by benchmarks/run.py")
    row = next(line for line in text.splitlines() if line.startswith("| small |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "50 / 31 / 1,030"  # the generator is deterministic
    assert cells[-3].endswith("x") and cells[-1].endswith("x")  # plan / floor and naive / plan were measured
    assert "The targets are for the large size" in text
    assert "Naive design, by phase: small: import" in text
    # The phase profile: every step of plan, and what is left for start-up, imports and output.
    profile = text[text.index("Where `plan` spends its time at the small size"):]
    assert "yaml-rs parse" in profile and "orjson load of the state" in profile
    for phase in ("load", "expand", "model", "validate", "state", "join", "finish", "render", "rest"):
        assert f"\n| {phase} |" in profile, phase
