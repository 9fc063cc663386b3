#!/usr/bin/env python3
"""Time ``accessplan plan`` and ``apply`` of a large MSSP against a state of the same size with 1 % drift.

    python benchmarks/plan_bench.py [--size large] [--runs 5] [--workdir DIR] [--profile]

Setup (not timed): :func:`drift.make_state` generates the organisation
(``large``: 2,000 customers, 1,000 users, ~100,000 assignments), applies it with
the real pipeline, approves every customer, applies again, and writes a
drifted copy of the manifest (about 1 % of the resources differ: customers
renamed, logs added to selected sets, members leaving groups, analysts
changing pods, leaving, joining). With ``--workdir`` the setup is kept and
reused by later runs.

Timed, each as a whole process (interpreter start-up included), ``--runs``
times, medians reported with the spread:

* ``plan DRIFTED --out FILE`` — the text plan to a pipe, the saved plan to a file;
* ``apply FILE`` — applying exactly that saved plan, on a fresh copy of the
  state each time (the copy is not timed);
* ``apply DRIFTED --auto-approve --allow-escalation`` — plan, check and write
  in one command, as CI without a saved plan does;
* with ``--role-change``, also ``plan`` of the drifted manifest with the custom
  role "Tier 1 Analyst" redefined (Collector raised to Administer): a change to
  one role that reaches about a thousand analysts in some 1,300 customers.

Peak memory is each process's maximum resident set size, from ``os.wait4``.
Targets on this machine class: plan at most 3 s end to end, apply at most 2 s
more than the plan, peak memory at most 1 GB. ``--profile`` adds a cProfile of
one ``plan`` run (in process), top functions by internal time, to explain a
miss.
"""

from __future__ import annotations

import argparse
import cProfile
import contextlib
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

PLAN_TARGET = 3.0
APPLY_EXTRA_TARGET = 2.0
MEMORY_TARGET_MB = 1024


def accessplan(now: str, *args: str) -> list[str]:
    return [sys.executable, "-c", "from accessplan.cli import run; run()", "--now", now, *args]


def run(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and the exit code of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    if code not in (0, 2):
        sys.stderr.write(err.decode(errors="replace")[-3000:])
        raise SystemExit(f"{' '.join(cmd[3:])} exited {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def setup(size: str, workdir: Path, seed: int) -> dict[str, object]:
    from drift import make_state

    manifest, state = workdir / "manifest", workdir / "state"
    if (state / "state.json").exists() and manifest.is_dir():
        return {"reused": str(workdir)}
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    return make_state(size, manifest, state, seed=seed)


def role_changed(workdir: Path) -> Path:
    """A copy of the drifted manifest where "Tier 1 Analyst" administers collectors."""
    target = workdir / "role-change"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(workdir / "manifest", target)
    roles = target / "roles.yaml"
    text = roles.read_text(encoding="utf-8")
    head, sep, tail = text.partition("- name: Tier 1 Analyst")
    roles.write_text(head + sep + tail.replace("Collector: View Only", "Collector: Administer", 1), encoding="utf-8")
    return target


def measure(workdir: Path, runs: int, now: str, role_change: bool) -> dict[str, list[tuple[float, float, float]]]:
    manifest, state = workdir / "manifest", workdir / "state"
    saved = workdir / "drift.plan"
    out: dict[str, list[tuple[float, float, float]]] = {"plan": [], "apply FILE": [], "apply PATH": []}
    for _ in range(runs):
        wall, cpu, rss, _ = run(accessplan(now, "--state", str(state), "plan", str(manifest), "--out", str(saved)))
        out["plan"].append((wall, cpu, rss))
    if role_change:
        changed = role_changed(workdir)
        out["plan (role redefined)"] = [run(accessplan(now, "--state", str(state), "plan", str(changed)))[:3] for _ in range(runs)]
    for label, target in (("apply FILE", [str(saved)]), ("apply PATH", [str(manifest), "--auto-approve"])):
        for _ in range(runs):
            scratch = workdir / "scratch-state"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(state, scratch)
            wall, cpu, rss, _ = run(accessplan(now, "--state", str(scratch), "apply", *target, "--allow-escalation"))
            out[label].append((wall, cpu, rss))
    shutil.rmtree(workdir / "scratch-state", ignore_errors=True)
    return out


def table(results: dict[str, list[tuple[float, float, float]]]) -> str:
    lines = ["| command | wall median (s) | wall min-max (s) | CPU median (s) | peak RSS max (MB) |", "| --- | --- | --- | --- | --- |"]
    for label, rows in results.items():
        walls = [r[0] for r in rows]
        lines.append(
            f"| `{label}` | {statistics.median(walls):.2f} | {min(walls):.2f}-{max(walls):.2f} "
            f"| {statistics.median(r[1] for r in rows):.2f} | {max(r[2] for r in rows):.0f} |"
        )
    return "\n".join(lines)


def verdicts(results: dict[str, list[tuple[float, float, float]]]) -> list[str]:
    plan = statistics.median(r[0] for r in results["plan"])
    apply_path = statistics.median(r[0] for r in results["apply PATH"])
    peak = max(r[2] for rows in results.values() for r in rows)

    def verdict(ok: bool) -> str:
        return "within" if ok else "OVER"

    return [
        f"plan: {plan:.2f} s, {verdict(plan <= PLAN_TARGET)} the {PLAN_TARGET:.0f} s target",
        f"apply: {apply_path - plan:+.2f} s over plan ({apply_path:.2f} s), {verdict(apply_path - plan <= APPLY_EXTRA_TARGET)} "
        f"the +{APPLY_EXTRA_TARGET:.0f} s target",
        f"peak memory: {peak:.0f} MB, {verdict(peak <= MEMORY_TARGET_MB)} the {MEMORY_TARGET_MB} MB target",
    ]


def profile(workdir: Path, now: str, top: int) -> str:
    """One plan in this process under cProfile: the top functions by internal time."""
    from accessplan.cli import main

    prof = cProfile.Profile()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        prof.runcall(main, ["--now", now, "--state", str(workdir / "state"), "plan", str(workdir / "manifest")])
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    from drift import NOW

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="large", help="small, medium or large (default)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (the median is shown; at least 5 for the README)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the generated manifest and state here, and reuse them next time")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one plan")
    parser.add_argument("--role-change", action="store_true", help="also time a plan where a widely used custom role is redefined")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="accessplan-plan-bench-")))
        info = setup(args.size, workdir.resolve(), args.seed)
        print(" ".join(f"{k}={v}" for k, v in info.items()))
        results = measure(workdir.resolve(), args.runs, NOW, args.role_change)
        print(table(results))
        print()
        print("\n".join(verdicts(results)))
        if args.profile:
            print()
            print(profile(workdir.resolve(), NOW, 30))
    return 0


if __name__ == "__main__":
    sys.exit(main())
