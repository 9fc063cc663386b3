#!/usr/bin/env python3
"""A sampling profile of one ``accessplan plan`` of the large organisation (pyinstrument).

    python benchmarks/profile_plan.py [--workdir DIR] [--out benchmarks/plan-profile.txt] [--interval 0.001]

Generates the large organisation and its drifted state (``generate.py
--state``; kept in ``--workdir`` when given), then plans it once in process
under pyinstrument, as the command line would (garbage collection off), and
writes the call tree. The phase table of ``run.py`` says how long each step
takes; this says which functions inside them the time goes to. Sampling
slows the run (at 1 ms, by about a third), so read the shares, not the
seconds. pyinstrument comes with the ``bench`` extra (``make bench``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import organisation  # noqa: E402

NOW = "2026-11-23T09:00:00Z"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, help="keep the generated organisation here")
    ap.add_argument("--out", type=Path, default=HERE / "plan-profile.txt")
    ap.add_argument("--interval", type=float, default=0.001, help="sampling interval in seconds")
    args = ap.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("profile_plan.py: pyinstrument is not installed (pip install -e '.[bench]', or make bench)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="accessplan-profile-") as tmp:
        manifest, state = organisation("large", args.workdir or Path(tmp) / "org")
        from accessplan.cli import main as cli

        profiler = Profiler(interval=args.interval)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            profiler.start()
            code = cli(["--now", NOW, "--state", str(state), "plan", str(manifest)])
            profiler.stop()
    if code != 0:
        print(f"profile_plan.py: plan exited {code}", file=sys.stderr)
        return 1
    text = profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)
    tree = text.splitlines()
    start = next((i for i, line in enumerate(tree) if line[:1].isdigit()), 0)  # after pyinstrument's banner
    lines = [
        f"# plan of the large organisation, sampled by pyinstrument every {args.interval * 1000:g} ms;",
        "# the profiler's own cost grows with the number of calls, so call-heavy code (templates) looks dearer than it is",
        *(line for line in tree[start:] if line.strip()),
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(lines)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
