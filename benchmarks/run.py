#!/usr/bin/env python3
"""Benchmark accessplan's commands as a user runs them, against the floor and the naive design.

    python benchmarks/run.py [--sizes small,medium,large] [--runs 5] [--naive-cap 300]
                             [--out benchmarks/results.md] [--keep DIR]

For each size, ``generate.py --state`` writes a synthetic organisation (one
file per customer) and a state that matches it at about 1 % drift. Then, run
after run, each of ``validate``, ``plan``, ``apply`` (on a fresh copy of the
state each time), ``explain`` and ``test`` runs as a whole process, beside the
*floor* (``floor.py``: yaml-rs parse of the same files plus an orjson load of
the state) and a bare interpreter. Commands take turns within each run, so a
noisy neighbour slows all of them alike and the ratios hold. Reported: the
median wall time, and the peak resident memory of each child (``ru_maxrss``
from :func:`os.wait4`, taken by a small launcher so that the figure is the
child's own: see ``measure.py``).

The *naive design* (``naive.py``: ruamel round-trip load and a DeepDiff of the
whole documents) runs once per size and is stopped at ``--naive-cap`` seconds
("> cap" in the table).

The Markdown written to ``--out`` holds the machine, the date, one table of
times and memory, one table of the targets for the largest size measured,
each with its verdict, and where ``plan`` spends its time at that size
(``phases.py``, run in the same turns). Written to the default
``benchmarks/results.md``, the report also goes into the README between its
markers, and a run of the large size adds its row to ``benchmarks/history.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import measured  # noqa: E402

NOW = "2026-11-23T09:00:00Z"  # drift.NOW, repeated: importing drift would load accessplan here
SIZES = ("small", "medium", "large")
COMMANDS = ("validate", "plan", "apply", "explain", "test")

#: Targets at the large size (issue 8).
TARGETS = {"validate": 2.0, "plan": 3.0, "apply": 5.0}
TARGET_RSS_MB = 1024.0
TARGET_FLOOR_RATIO = 3.0
TARGET_NAIVE_SPEEDUP = 20.0
TARGET_GROWTH = 1.2


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    code: int


@dataclass
class SizeResult:
    size: str
    info: dict[str, str]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    naive: float | None = None  # None: stopped at the cap
    naive_phases: dict[str, float] = field(default_factory=dict)
    plan_phases: list[dict[str, dict[str, float]]] = field(default_factory=list)  # one per phases.py run
    floor_parts: list[dict[str, float]] = field(default_factory=list)  # yaml and state seconds, one per floor run
    failures: list[str] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(s.seconds for s in self.samples[name])

    def peak(self, name: str) -> float:
        return max(s.rss_mb for s in self.samples[name])

    @property
    def manifest_bytes(self) -> int:
        return int(self.info["bytes"])

    @property
    def state_bytes(self) -> int:
        return int(self.info["state_bytes"])


def accessplan() -> list[str]:
    """The installed console script beside this interpreter, else the module."""
    script = Path(sys.executable).parent / "accessplan"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from accessplan.cli import run; run()"]


def timed(argv: list[str], *, cwd: Path, timeout: float | None = None) -> tuple[Sample, str, str]:
    """Run ``argv`` as its own process; its wall time, own peak RSS and output (see ``measure.py``)."""
    m = measured(argv, cwd=cwd, timeout=timeout)
    return Sample(m.seconds, m.rss_mb, m.code), m.out, m.err


def generate(size: str, work: Path, seed: int) -> dict[str, str]:
    manifest, state = work / "manifest", work / "state"
    done = subprocess.run([sys.executable, str(HERE / "generate.py"), "--size", size, "--out", str(manifest), "--state", str(state),
                           "--seed", str(seed)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"generate.py --size {size} failed:\n{done.stderr[-3000:]}")
    return dict(item.split("=", 1) for item in done.stdout.split())


def organisation(size: str, work: Path, seed: int = 1) -> tuple[Path, Path]:
    """The manifest directory and state directory of ``size`` under ``work``, generated unless already there."""
    manifest, state = work / "manifest", work / "state"
    if not (state / "state.json").exists():
        work.mkdir(parents=True, exist_ok=True)
        generate(size, work, seed)  # generate.py refuses to overwrite files it did not write
    return manifest, state


def first_user(manifest: Path) -> str:
    """The first partner user: a global administrator, who reaches every customer (explain's worst case)."""
    for line in (manifest / "partner.yaml").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("- email:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise RuntimeError("no partner user in the generated manifest")


def measure(size: str, runs: int, naive_cap: float, seed: int, keep: Path | None) -> SizeResult:
    work = Path(tempfile.mkdtemp(prefix=f"accessplan-bench-{size}-", dir=keep))
    try:
        return _measure(size, runs, naive_cap, seed, work)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _measure(size: str, runs: int, naive_cap: float, seed: int, work: Path) -> SizeResult:
    started = time.perf_counter()
    info = generate(size, work, seed)
    print(f"[{size}] generated in {time.perf_counter() - started:.1f} s: {info['customers']} customers, "
          f"{info['state_resources']} resources, drift {info['drift_percent']} %", file=sys.stderr, flush=True)
    result = SizeResult(size, info)
    manifest, state, scratch = work / "manifest", work / "state", work / "apply-state"
    ap = [*accessplan(), "--now", NOW]
    argvs = {
        "python": [sys.executable, "-c", "pass"],
        "floor": [sys.executable, str(HERE / "floor.py"), str(manifest), str(state / "state.json")],
        "validate": [*ap, "validate", str(manifest)],
        "plan": [*ap, "--state", str(state), "plan", str(manifest)],
        "apply": [*ap, "--state", str(scratch), "apply", str(manifest), "--auto-approve", "--allow-escalation"],
        "explain": [*ap, "explain", str(manifest), first_user(manifest)],
        "test": [*ap, "test", str(manifest)],
        "phases": [sys.executable, str(HERE / "phases.py"), str(manifest), str(state), "--now", NOW],
    }
    for run in range(runs):
        for name, argv in argvs.items():
            if name == "apply":
                shutil.rmtree(scratch, ignore_errors=True)
                shutil.copytree(state, scratch)  # apply changes its state: each run starts from the same one
            sample, out, err = timed(argv, cwd=work)
            result.samples.setdefault(name, []).append(sample)
            if sample.code != 0:
                result.failures.append(f"{size} {name} run {run + 1}: exit {sample.code}: {err.strip()[-500:]}")
            elif name == "phases":
                result.plan_phases.append(json.loads(out))
            elif name == "floor":
                parts = dict(item.split("=", 1) for line in out.splitlines() if "_seconds=" in line for item in line.split())
                result.floor_parts.append({k.removesuffix("_seconds"): float(v) for k, v in parts.items()})
        print(f"[{size}] run {run + 1}/{runs}: " + ", ".join(f"{n} {result.samples[n][-1].seconds:.2f}s" for n in argvs),
              file=sys.stderr, flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    sample, out, err = timed([sys.executable, str(HERE / "naive.py"), str(manifest), str(state / "state.json")], cwd=work, timeout=naive_cap)
    for line in out.splitlines():
        if line.startswith("phase "):
            _, phase, seconds = line.split()
            result.naive_phases[phase] = float(seconds)
    if sample.code == 0:
        result.naive = sample.seconds - result.naive_phases.get("untimed", 0.0)
    elif sample.code != -signal.SIGKILL:
        result.failures.append(f"{size} naive: exit {sample.code}: {err.strip()[-500:]}")
    shown = "> cap" if result.naive is None else f"{result.naive:.1f} s"
    print(f"[{size}] naive design: {shown} {result.naive_phases}", file=sys.stderr, flush=True)
    return result


# -- report ---------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} x {model}",
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def _s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.2f}"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def size_table(results: list[SizeResult], runs: int, naive_cap: float) -> list[str]:
    heads = ["size", "customers / users / assignments", "resources (drift)", "manifest, state"]
    heads += [f"{c} s (RSS MB)" for c in COMMANDS] + ["floor s", "`python -c pass` s", "plan / floor", "naive s", "naive / plan"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in results:
        i = r.info
        cells = [r.size, f"{int(i['customers']):,} / {int(i['users']):,} / {int(i['assignments']):,}",
                 f"{int(i['state_resources']):,} ({i['drift_percent']} %)", f"{_mb(r.manifest_bytes)}, {_mb(r.state_bytes)}"]
        cells += [f"{r.median(c):.2f} ({r.peak(c):.0f})" for c in COMMANDS]
        cells += [_s(r.median("floor")), _s(r.median("python")), f"{r.median('plan') / r.median('floor'):.1f}x"]
        if r.naive is None:
            cells += [f"> {naive_cap:.0f}", f"> {naive_cap / r.median('plan'):.0f}x"]
        else:
            cells += [f"{r.naive:.1f}", f"{r.naive / r.median('plan'):.1f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def target_table(results: list[SizeResult], naive_cap: float) -> list[str]:
    by = {r.size: r for r in results}
    if "large" not in by:
        return ["The targets are for the large size, which this run did not measure."]
    big = by["large"]
    lines = ["Targets at the large size:", "", "| target | measured | verdict |", "|---|---|---|"]
    for name, limit in TARGETS.items():
        lines.append(f"| {name} <= {limit:.0f} s | {big.median(name):.2f} s | {verdict(big.median(name) <= limit)} |")
    peak = max(big.peak(c) for c in COMMANDS)
    worst = max(COMMANDS, key=big.peak)
    lines.append(f"| peak RSS <= {TARGET_RSS_MB:.0f} MB | {peak:.0f} MB ({worst}) | {verdict(peak <= TARGET_RSS_MB)} |")
    ratio = big.median("plan") / big.median("floor")
    lines.append(f"| plan <= {TARGET_FLOOR_RATIO:.0f}x the floor | {ratio:.1f}x | {verdict(ratio <= TARGET_FLOOR_RATIO)} |")
    if big.naive is None:
        speedup = naive_cap / big.median("plan")
        lines.append(f"| plan >= {TARGET_NAIVE_SPEEDUP:.0f}x faster than naive | > {speedup:.0f}x (naive > {naive_cap:.0f} s cap) | "
                     f"{verdict(speedup >= TARGET_NAIVE_SPEEDUP)} |")
    else:
        speedup = big.naive / big.median("plan")
        lines.append(f"| plan >= {TARGET_NAIVE_SPEEDUP:.0f}x faster than naive | {speedup:.1f}x | {verdict(speedup >= TARGET_NAIVE_SPEEDUP)} |")
    if "medium" in by and "large" in by:
        m, g = by["medium"], by["large"]
        manifest_ratio = g.manifest_bytes / m.manifest_bytes
        both_ratio = (g.manifest_bytes + g.state_bytes) / (m.manifest_bytes + m.state_bytes)
        for name in COMMANDS:
            inputs = both_ratio if name in ("plan", "apply") else manifest_ratio
            growth = g.median(name) / m.median(name)
            lines.append(f"| {name}: large / medium time <= {TARGET_GROWTH} x input ratio ({inputs:.2f}x) | "
                         f"{growth:.2f}x ({growth / inputs:.2f} x the input ratio) | {verdict(growth <= TARGET_GROWTH * inputs)} |")
    return lines


def phase_table(r: SizeResult) -> list[str]:
    """Where ``plan`` spends its time at the largest size measured, beside the floor's two steps."""
    from phases import PHASES

    if not r.plan_phases or not r.floor_parts:
        return []
    plan = r.median("plan")
    medians = {key: statistics.median(run[key]["seconds"] for run in r.plan_phases) for key, _, _ in PHASES}
    rss = {key: statistics.median(run[key]["rss_mb"] for run in r.plan_phases) for key, _, _ in PHASES}
    rest = plan - sum(medians.values())
    yaml_s = statistics.median(p["yaml"] for p in r.floor_parts)
    state_s = statistics.median(p["state"] for p in r.floor_parts)
    lines = [
        f"Where `plan` spends its time at the {r.size} size: `benchmarks/phases.py` runs the steps of `plan` in process, "
        f"{len(r.plan_phases)} times, each in a fresh process; medians, against the whole-process median of `plan` ({plan:.2f} s). "
        f"The floor's own steps, timed inside floor.py: yaml-rs parse {yaml_s:.2f} s, orjson load of the state {state_s:.2f} s.",
        "",
        "| phase | what it does | s | share of plan | RSS after (MB) |",
        "|---|---|---|---|---|",
    ]
    for key, label, what in PHASES:
        detail = f"{label}: {what}" if what else label
        lines.append(f"| {key} | {detail} | {medians[key]:.2f} | {medians[key] / plan:.0%} | {rss[key]:.0f} |")
    lines.append(f"| rest | interpreter start-up, imports, writing the output | {rest:.2f} | {rest / plan:.0%} | |")
    return lines


def report(results: list[SizeResult], runs: int, naive_cap: float) -> str:
    m = machine()
    lines = [
        "<!-- written by benchmarks/run.py; do not edit by hand -->",
        f"Measured {m['date']} on {m['cpu']}, {m['memory']}, Python {m['python']}, {m['os']}.",
        f"Median of {runs} runs of each command as a whole process (wall time, seconds); RSS is the peak of any run.",
        "",
        *size_table(results, runs, naive_cap),
        "",
        *target_table(results, naive_cap),
    ]
    phases = [f"{r.size}: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.naive_phases.items() if k != "untimed") for r in results]
    lines += ["", "Naive design, by phase: " + "; ".join(phases) + "."]
    lines += ["", *phase_table(results[-1])]
    failures = [f for r in results for f in r.failures]
    if failures:
        lines += ["", "Failures:", *[f"- {f}" for f in failures]]
    return "\n".join(lines) + "\n"


HISTORY = HERE / "history.md"
HISTORY_HEAD = [
    "<!-- every run of benchmarks/run.py at the large size adds a row; do not edit by hand -->",
    "| measured (UTC) | code | floor s | validate s | plan s | apply s | peak RSS MB | plan / floor | naive s | naive / plan |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def code_version() -> str:
    """The commit measured, with ``-dirty`` when the sources differ from it (the reports this run writes do not count)."""
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, check=False)
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=7", "HEAD") or "unknown"
    return f"{commit}-dirty" if git("status", "--porcelain", "--", "../src") else commit


def record(big: SizeResult, naive_cap: float) -> None:
    """Add this run's large-size row to ``history.md``: every run is kept, so none is picked."""
    plan = big.median("plan")
    naive = f"> {naive_cap:.0f}" if big.naive is None else f"{big.naive:.1f}"
    speedup = (naive_cap if big.naive is None else big.naive) / plan
    row = [machine()["date"].removesuffix(" UTC"), f"`{code_version()}`", f"{big.median('floor'):.2f}", f"{big.median('validate'):.2f}",
           f"{plan:.2f}", f"{big.median('apply'):.2f}", f"{max(big.peak(c) for c in COMMANDS):.0f}", f"{plan / big.median('floor'):.1f}x",
           naive, f"{'> ' if big.naive is None else ''}{speedup:.1f}x"]
    lines = HISTORY.read_text(encoding="utf-8").splitlines() if HISTORY.exists() else list(HISTORY_HEAD)
    lines.append("| " + " | ".join(row) + " |")
    HISTORY.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated, from small,medium,large (default: all)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each command per size (default 5)")
    ap.add_argument("--naive-cap", type=float, default=300.0, metavar="SECONDS", help="stop the naive design after this long (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results.md", help="Markdown report (default benchmarks/results.md)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep the generated manifests and states under DIR")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes or args.runs < 1:
        ap.error(f"--sizes takes some of {', '.join(SIZES)}; --runs at least 1")
    sizes.sort(key=SIZES.index)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    try:
        results = [measure(size, args.runs, args.naive_cap, args.seed, args.keep) for size in sizes]
    except RuntimeError as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return 1
    text = report(results, args.runs, args.naive_cap)
    args.out.write_text(text, encoding="utf-8")
    if args.out.resolve() == (HERE / "results.md").resolve():
        from readme_block import include

        large = next((r for r in results if r.size == "large"), None)
        if large is not None and not large.failures:
            record(large, args.naive_cap)
            include(HISTORY)
        include(args.out)  # the README shows the report itself, between its markers
    print(text)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
