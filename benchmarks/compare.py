#!/usr/bin/env python3
"""Compare the speed of this working tree with an earlier commit, interleaved, on the large organisation.

    python benchmarks/compare.py REV [--runs 7] [--commands plan,validate] [--workdir DIR]

On a shared machine the speed of whole runs drifts by more than most changes
are worth (see the README's Performance section), so two versions are only
comparable when they run in turns under the same load. This script takes the
package as it was at ``REV`` (``git archive``, into a temporary directory),
generates the large organisation and its drifted state once (kept in
``--workdir`` when given), then runs each command ``--runs`` times for each
version, alternating, each as a whole process with ``PYTHONPATH`` pointing at
that version's sources. It prints the median wall time of each and their
ratio (working tree / REV).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from measure import measured  # noqa: E402
from run import first_user, organisation  # noqa: E402

NOW = "2026-11-23T09:00:00Z"


def sources_at(rev: str, into: Path) -> Path:
    """The ``src`` tree of ``rev``, extracted under ``into``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"compare.py: cannot read {rev}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", help="the commit to compare with, e.g. HEAD~5")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--commands", default="plan,validate", help="comma-separated, from plan,validate,explain,test")
    ap.add_argument("--workdir", type=Path, help="keep the generated organisation here for the next comparison")
    args = ap.parse_args(argv)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    with tempfile.TemporaryDirectory(prefix="accessplan-compare-") as tmp:
        old_src = sources_at(args.rev, Path(tmp))
        manifest, state = organisation("large", args.workdir or Path(tmp) / "org")
        argvs = {
            "plan": ["--state", str(state), "plan", str(manifest)],
            "validate": ["validate", str(manifest)],
            "explain": ["explain", str(manifest), first_user(manifest)],
            "test": ["test", str(manifest)],
        }
        versions = {args.rev: str(old_src), "working tree": str(ROOT / "src")}
        seconds: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for command in commands:
                for label, src in versions.items():
                    env = {**os.environ, "PYTHONPATH": src}
                    argv_ = [sys.executable, "-c", "from accessplan.cli import run; run()", "--now", NOW, *argvs[command]]
                    m = measured(argv_, cwd=Path(tmp), env=env)
                    if m.code not in (0, 2):
                        raise SystemExit(f"compare.py: {command} at {label} exited {m.code}: {m.err.strip()[-800:]}")
                    seconds.setdefault((command, label), []).append(m.seconds)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    print(f"| command | {args.rev} s | working tree s | working tree / {args.rev} |")
    print("|---|---|---|---|")
    for command in commands:
        old = statistics.median(seconds[(command, args.rev)])
        new = statistics.median(seconds[(command, "working tree")])
        print(f"| {command} | {old:.2f} | {new:.2f} | {new / old:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
