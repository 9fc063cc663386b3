"""Fuzzed manifests through the CLI, in-process: no traceback, no hang, whatever the input.

Hypothesis draws each case (:mod:`fuzz_cases`); it is written to a scratch
directory (in ``/dev/shm`` when there is one) and run through
:func:`accessplan.cli.main`, the same entry point as the installed command:
``validate`` always, and for a case that validates, ``plan``, ``apply`` (to a
fresh state), ``plan`` again (against that state), ``test`` and ``explain``.

- A traceback is exit code 3 (the CLI's "unexpected error"), or the word
  ``Traceback`` in any output, or an exception escaping ``main``.
- A hang is a case running past ``timeout`` seconds (a SIGALRM timer in the
  worker), or a worker that stops making progress altogether (stuck in C:
  the parent kills it after ``4 x timeout`` and starts another).
- An output that carries a control character or a bidirectional override
  (which a user-supplied name must never bring to a terminal) is a failure too.
- Memory is capped per worker (``RLIMIT_AS``): an unbounded allocation fails
  with MemoryError, which the CLI reports as exit 3, so it counts too.

Cases are run in batches of a few hundred per Hypothesis run, each with its own
seed (Hypothesis remembers every choice of a run: batches keep memory flat), in
the generate phase only (no shrinking: a failing case is recorded and the run
goes on), across one worker process per core. Every failing case is saved with
its output under ``failures/`` for reproduction.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import os
import re
import resource
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from trial_common import NOW, Trial

BATCH = 250
# What must never reach a terminal from user-supplied strings (SPEC section 6):
# control characters other than tab and newline, and bidirectional overrides.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
MEMORY_LIMIT = 3 * 1024**3
MAX_SLOTS = 64  # workers started in all, replacements of stuck ones included


class Hang(BaseException):
    """Raised by the per-case timer; a BaseException so that no ``except Exception`` swallows it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang()


def _cli(args: list[str]) -> tuple[int, str]:
    from accessplan.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--now", NOW, *args])
    return code, out.getvalue() + err.getvalue()


def _write_case(case: Any, where: Path) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for name, data in case.files:
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return where / case.files[0][0] if case.single else where


def _first_user(path: Path) -> str:
    from accessplan.loader import load_manifest

    users = load_manifest(path).partner.users
    return users[0].email if users else "nobody@example.com"


def run_case(case: Any, scratch: Path, timeout: float) -> tuple[str, str]:
    """(outcome, detail): "valid", "invalid", "traceback", "hang" or "unsanitized" (a control character in the output)."""
    path = _write_case(case, scratch / "case")
    state = scratch / "state"
    shutil.rmtree(state, ignore_errors=True)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    transcript: list[str] = []
    try:
        steps = [["validate", str(path)]]
        outcome = "invalid"
        for i, args in enumerate(steps):
            code, output = _cli(args)
            transcript.append(f"$ accessplan {' '.join(args)}\n[exit {code}]\n{output}")
            if code not in (0, 1, 2) or "Traceback" in output:
                return "traceback", "\n".join(transcript)
            if UNSAFE.search(output):
                return "unsanitized", "\n".join(transcript)
            if i == 0 and code == 0:
                outcome = "valid"
                s = ["--state", str(state)]
                steps += [[*s, "plan", str(path)], [*s, "apply", str(path), "--auto-approve", "--allow-escalation", "--force",
                          "--allow-customer-removal"], [*s, "plan", str(path)], ["test", str(path)],
                          ["explain", str(path), _first_user(path)]]
        return outcome, ""
    except Hang:
        return "hang", "\n".join(transcript)
    except Exception as exc:  # noqa: BLE001 - an exception escaping main is exactly what this trial looks for
        import traceback

        return "traceback", "\n".join(transcript) + "\n" + "".join(traceback.format_exception(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _worker(index: int, count: int, seed: int, scratch: Path, failures: Path, timeout: float, progress: Any, queue: Any) -> None:
    import gc
    import warnings

    from fuzz_cases import cases, load_seeds
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import HypothesisWarning

    warnings.filterwarnings("ignore", category=HypothesisWarning)  # "overly large repr" of the seed manifests
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _on_alarm)
    scratch.mkdir(parents=True, exist_ok=True)
    seeds = load_seeds()
    stats: Counter[str] = Counter()
    slowest = (0.0, "")
    examples: list[str] = []
    strategy = cases(seeds)
    batch = 0
    while stats["cases"] < count:
        todo = min(BATCH, count - stats["cases"])

        @hseed(seed * 1_000_003 + batch)
        @settings(max_examples=todo, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), derandomize=False)
        @given(strategy)
        def body(case: Any) -> None:
            nonlocal slowest
            if stats["cases"] >= count:
                return
            progress[index * 2] = time.monotonic()
            started = time.perf_counter()
            outcome, detail = run_case(case, scratch, timeout)
            elapsed = time.perf_counter() - started
            gc.enable()  # main() turns the collector off for its own run
            stats["cases"] += 1
            stats[f"{outcome}"] += 1
            stats[f"kind {case.kind}"] += 1
            progress[index * 2 + 1] = stats["cases"]
            if elapsed > slowest[0]:
                slowest = (elapsed, case.kind)
            if outcome in ("traceback", "hang", "unsanitized"):
                where = failures / f"worker{index}-{stats['cases']:06d}-{outcome}"
                shutil.copytree(scratch / "case", where / "input", dirs_exist_ok=True)
                (where / "output.txt").write_text(detail, encoding="utf-8", errors="replace")
                if len(examples) < 10:
                    examples.append(f"{outcome} on a {case.kind} case: {where}")

        try:
            body()
        except Exception as exc:  # noqa: BLE001 - a fault of the fuzzer itself: counted, and the next batch goes on
            stats["fuzzer errors"] += 1
            if len(examples) < 10:
                examples.append(f"fuzzer error in batch {batch}: {type(exc).__name__}: {str(exc)[:300]}")
        batch += 1
        if stats["cases"] % 2000 < BATCH:
            gc.collect()
    queue.put({"index": index, "stats": dict(stats), "slowest": slowest, "examples": examples})


def fuzz_trial(root: Path, count: int, workers: int = 2, timeout: float = 10.0, seed: int = 8) -> Trial:
    """``count`` fuzzed manifests across ``workers`` processes."""
    trial = Trial("fuzzed manifests")
    shm = Path("/dev/shm")
    scratch_root = Path(tempfile_dir(shm if shm.is_dir() and os.access(shm, os.W_OK) else root))
    failures = root / "failures"
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    progress = ctx.Array("d", 2 * MAX_SLOTS, lock=False)  # per worker slot: last case started, cases done
    share = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    running: dict[int, tuple[Any, int]] = {}  # slot -> (process, cases asked)
    results: list[dict[str, Any]] = []
    stuck = deaths = 0
    next_slot = 0

    def start(cases: int) -> None:
        nonlocal next_slot
        slot = next_slot
        next_slot += 1
        progress[slot * 2], progress[slot * 2 + 1] = time.monotonic(), 0
        proc = ctx.Process(target=_worker, args=(slot, cases, seed + slot, scratch_root / f"w{slot}", failures, timeout, progress, queue))
        proc.start()
        running[slot] = (proc, cases)

    for n in share:
        if n:
            start(n)
    try:
        while running:
            while not queue.empty():
                results.append(queue.get())
            for slot, (proc, asked) in list(running.items()):
                if not proc.is_alive():
                    proc.join()
                    while not queue.empty():
                        results.append(queue.get())
                    if not any(r["index"] == slot for r in results):
                        deaths += 1
                        trial.fail(f"fuzz worker {slot} died (exit {proc.exitcode})")
                    del running[slot]
                elif time.monotonic() - progress[slot * 2] > 4 * timeout:
                    proc.kill()
                    proc.join()
                    stuck += 1
                    done = int(progress[slot * 2 + 1])
                    where = failures / f"worker{slot}-stuck"
                    shutil.copytree(scratch_root / f"w{slot}" / "case", where / "input", dirs_exist_ok=True)
                    trial.fail(f"a case ran past {4 * timeout:.0f} s without returning (saved in {where})")
                    del running[slot]
                    if asked - done - 1 > 0 and next_slot < MAX_SLOTS:
                        start(asked - done - 1)
            time.sleep(0.2)
        while not queue.empty():
            results.append(queue.get())
    finally:
        for proc, _ in running.values():
            proc.kill()
        shutil.rmtree(scratch_root, ignore_errors=True)
    stats: Counter[str] = Counter()
    slowest = (0.0, "")
    for r in results:
        stats.update(r["stats"])
        slowest = max(slowest, tuple(r["slowest"]))
        for e in r["examples"]:
            trial.fail(e)
    trial.runs = stats["cases"] + stuck
    trial.failures = stats["traceback"] + stats["hang"] + stats["unsanitized"] + stats["fuzzer errors"] + stuck + deaths
    trial.facts["tracebacks"] = stats["traceback"]
    trial.facts["hangs"] = stats["hang"] + stuck
    trial.facts["unsanitized outputs"] = stats["unsanitized"]
    if stats["fuzzer errors"]:
        trial.facts["fuzzer errors"] = stats["fuzzer errors"]
    trial.facts["valid"] = stats["valid"]
    trial.facts["invalid"] = stats["invalid"]
    trial.facts["slowest case"] = f"{slowest[0]:.2f} s ({slowest[1]})"
    for key in sorted(k for k in stats if k.startswith("kind ")):
        trial.facts[key] = stats[key]
    return trial.done()


def tempfile_dir(parent: Path) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="accessplan-fuzz-", dir=parent)


if __name__ == "__main__":  # a quick run: python benchmarks/trial_fuzz.py [COUNT [DIR]]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    out = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile_dir(Path("/tmp")))
    result = fuzz_trial(out, int(sys.argv[1]) if len(sys.argv) > 1 else 500)
    print(result)
    print(f"failing cases, if any, are under {out / 'failures'}")
