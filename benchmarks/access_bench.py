#!/usr/bin/env python3
"""Time the effective-access engine on generated MSSP organisations.

    python benchmarks/access_bench.py [--sizes small,medium,large] [--runs 5] [--seed 1]

For each size, :func:`generate.generate` writes a manifest, which is loaded,
resolved and turned into resources once (not timed: parsing has its own
benchmark). Then, ``--runs`` times over, the script times what ``plan`` and
``validate`` pay for access: building :class:`AccessModel`, computing the access
of every (account, user) pair, and collecting every conflict. It prints the
medians as a Markdown table; the target at ``large`` (2,000 customers, 1,000
users, ~100,000 assignments) is 1 s in total.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from generate import generate  # noqa: E402

from accessplan.access import AccessModel  # noqa: E402
from accessplan.desired import desired_resources  # noqa: E402
from accessplan.loader import load_manifest  # noqa: E402
from accessplan.resolve import resolve  # noqa: E402

TARGET_SECONDS = 1.0


def measure(size: str, runs: int, seed: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        counts = generate(size, Path(tmp), seed=seed)
        manifest = load_manifest(tmp)
    resources = desired_resources(manifest, resolve(manifest))
    build, every, conflicts, total, cpu = [], [], [], [], []
    pairs = found = 0
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        model = AccessModel(resources)
        t1 = time.perf_counter()
        pairs = len(model.all_access())
        t2 = time.perf_counter()
        found = len(model.conflicts())
        t3 = time.perf_counter()
        build.append(t1 - t0)
        every.append(t2 - t1)
        conflicts.append(t3 - t2)
        total.append(t3 - t0)
        cpu.append(time.process_time() - c0)
        del model  # freeing it is not part of the next run's time
    return {
        "size": size,
        "customers": int(counts["customers"]),
        "users": int(counts["users"]),
        "assignments": int(counts["assignments"]),
        "pairs": pairs,
        "conflicts found": found,
        "model (s)": statistics.median(build),
        "all access (s)": statistics.median(every),
        "conflicts (s)": statistics.median(conflicts),
        "total (s)": statistics.median(total),
        "total CPU (s)": statistics.median(cpu),
    }


def table(rows: list[dict[str, float | int | str]]) -> str:
    heads = list(rows[0])
    lines = ["| " + " | ".join(heads) + " |", "| " + " | ".join("---" for _ in heads) + " |"]
    for row in rows:
        cells = [f"{v:.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: small, medium, large")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (the median is shown)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rows = [measure(size, args.runs, args.seed) for size in args.sizes.split(",")]
    print(table(rows))
    large = [r for r in rows if r["size"] == "large"]
    if large:
        seconds = float(large[0]["total (s)"])
        verdict = "within" if seconds <= TARGET_SECONDS else "OVER"
        print(f"\nlarge: {seconds:.3f} s, {verdict} the {TARGET_SECONDS:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
