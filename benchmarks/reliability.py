#!/usr/bin/env python3
"""The reliability trials: crashes, failing disks, racing writers, fuzzed and hostile input.

    python benchmarks/reliability.py [--kills 1000] [--writers 8] [--applies 50] [--fuzz 100000]
                                     [--trials kill,faults,locks,fuzz,attacks] [--out benchmarks/reliability.md]
                                     [--keep DIR]

``make reliability`` runs all of them at full size (about 15 minutes on
two cores); ``tests/test_reliability_small.py`` runs a small version of each in
``make test``. The trials:

kill     SIGKILL ``apply`` at random moments (``trial_kill.py``): the state is
         always the old or the new one, valid JSON, no temporary file survives
         the next apply, the audit log records every commit once.
faults   ENOSPC and EIO at every write, fsync, replace, link and directory
         fsync of an apply (``trial_faults.py``): non-zero exit with one clear
         line, never a corrupt state, and the next apply repairs everything.
locks    ``--writers`` processes x ``--applies`` applies on one state
         (``trial_locks.py``): no lost update, every loser told who holds the lock.
fuzz     ``--fuzz`` Hypothesis-made manifests through the CLI in-process
         (``trial_fuzz.py``): no traceback, no hang, no control character output.
attacks  SPEC section 2's hostile YAML, each in a whole process
         (``trial_attacks.py``): refused with its message, time and memory bounded.

It prints one summary table (and the attacks with their time and memory) and
writes them to ``--out``. Exit 1 if any trial failed; failing fuzz cases are
kept under ``--keep`` (default: a temporary directory, named in the output).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import machine  # noqa: E402
from trial_common import Trial  # noqa: E402

TRIALS = ("kill", "faults", "locks", "fuzz", "attacks")


def summary(trials: list[Trial], attacks: list[tuple[str, str, float, float, str]], options: dict[str, int]) -> str:
    m = machine()
    lines = [
        "<!-- written by benchmarks/reliability.py; do not edit by hand -->",
        f"Run {m['date']} on {m['cpu']}, {m['memory']}, Python {m['python']}, {m['os']}; "
        + ", ".join(f"{k} {v:,}" for k, v in options.items()) + ".",
        "",
        "| trial | runs | failures | verdict | time | measured |",
        "|---|---|---|---|---|---|",
    ]
    for t in trials:
        facts = "; ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in t.facts.items())
        verdict = "pass" if t.passed else "**FAIL**"
        lines.append(f"| {t.name} | {t.runs:,} | {t.failures:,} | {verdict} | {t.seconds:.0f} s | {facts} |")
    if attacks:
        lines += ["", "| attack | outcome | time (whole process) | peak RSS |", "|---|---|---|---|"]
        lines += [f"| {name} | {verdict} | {seconds:.2f} s | {rss:.0f} MB |" for name, verdict, seconds, rss, _ in attacks]
    failed = [t for t in trials if t.examples]
    if failed:
        lines += ["", "Failures (first few of each trial):"]
        lines += [f"- {t.name}: {e}" for t in failed for e in t.examples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=1000, help="SIGKILLs during apply (default 1000)")
    ap.add_argument("--writers", type=int, default=8, help="concurrent apply processes (default 8)")
    ap.add_argument("--applies", type=int, default=50, help="applies per writer (default 50)")
    ap.add_argument("--fuzz", type=int, default=100_000, help="fuzzed manifests (default 100000)")
    ap.add_argument("--trials", default=",".join(TRIALS), help=f"comma-separated, from {','.join(TRIALS)} (default: all)")
    ap.add_argument("--out", type=Path, default=HERE / "reliability.md", help="Markdown summary (default benchmarks/reliability.md)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="work here and keep it (failing fuzz cases included)")
    args = ap.parse_args(argv)
    chosen = [t.strip() for t in args.trials.split(",") if t.strip()]
    if not chosen or any(t not in TRIALS for t in chosen):
        ap.error(f"--trials takes some of {', '.join(TRIALS)}")
    root = Path(tempfile.mkdtemp(prefix="accessplan-reliability-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    trials: list[Trial] = []
    attacks: list[tuple[str, str, float, float, str]] = []
    options = {}

    def report(trial: Trial) -> None:
        trials.append(trial)
        state = "pass" if trial.passed else f"FAIL ({trial.failures} failures)"
        print(f"{trial.name}: {trial.runs:,} runs, {state}, {trial.seconds:.0f} s", file=sys.stderr, flush=True)

    if "kill" in chosen:
        from trial_kill import kill_trial

        options["kills"] = args.kills
        report(kill_trial(root / "kill", args.kills))
    if "faults" in chosen:
        from trial_faults import fault_trial

        report(fault_trial(root / "faults"))
    if "locks" in chosen:
        from trial_locks import lock_trial

        options["writers x applies"] = args.writers * args.applies
        report(lock_trial(root / "locks", args.writers, args.applies))
    if "fuzz" in chosen:
        from trial_fuzz import fuzz_trial

        options["fuzzed manifests"] = args.fuzz
        report(fuzz_trial(root / "fuzz", args.fuzz))
    if "attacks" in chosen:
        from trial_attacks import attack_trial

        trial, attacks = attack_trial(root / "attacks")
        report(trial)
    text = summary(trials, attacks, options)
    args.out.write_text(text, encoding="utf-8")
    if args.out.resolve() == (HERE / "reliability.md").resolve():
        from readme_block import include

        include(args.out)  # the README shows the summary itself, between its markers
    print(text)
    ok = all(t.passed for t in trials)
    if args.keep is None:
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"work directory kept for inspection: {root}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
