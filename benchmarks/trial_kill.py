"""SIGKILL during ``accessplan apply``, at random moments: the state is always the old or the new one.

Each worker owns a state directory and two manifests of one family (they
differ in a customer's name, so every apply rewrites the whole state). It
applies them in turn, killing each apply after a delay drawn uniformly over
the time an uninterrupted apply takes (start-up, planning and writing; measured
again every :data:`REMEASURE` applies, as the machine's load changes), until
it has delivered its share of SIGKILLs. After every attempt: ``state.json`` is valid JSON and exactly the old state (same
serial, same resources) or the new one (serial + 1); an apply that finished
left no temporary file or journal behind (so whatever a killed writer left was
cleaned up). At the end the audit log records each commit exactly once.

Workers run side by side (one per core), each with its own state.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from trial_common import Trial, accessplan_cmd, audit_chain, family, leftovers, read_state, unbroken

USERS, CUSTOMERS = 60, 50  # 3,050 assignments, a state of about 1.5 MB (as tests/test_crash.py)
REMEASURE = 25  # every 25th apply runs to the end, to measure how long an apply takes now


def _apply(manifest: Path, state: Path, *extra: str, kill_after: float | None = None) -> int:
    proc = subprocess.Popen(accessplan_cmd("apply", str(manifest), "--state", str(state), "--auto-approve", "--lock-timeout", "30", *extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        return proc.wait(timeout=300)
    try:
        return proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=60)


def _worker(root: Path, kills: int, seed: int, trial: Trial, lock: threading.Lock) -> None:
    root.mkdir(parents=True)
    variants = []
    for name in ("Alpha", "Beta"):
        path = root / f"{name}.yaml"
        path.write_text(family(USERS, CUSTOMERS, name), encoding="utf-8")
        variants.append(path)
    state = root / "state"
    if _apply(variants[0], state, "--allow-escalation") != 0:
        with lock:
            trial.fail(f"{root.name}: the first apply failed")
        return
    resources: list[Any] = [read_state(state)["resources"]]
    started = time.monotonic()
    if _apply(variants[1], state) != 0:
        with lock:
            trial.fail(f"{root.name}: the second apply failed")
        return
    duration = time.monotonic() - started
    resources.append(read_state(state)["resources"])
    serial, side = 2, 1
    rng = random.Random(seed)
    counts = {"attempts": 0, "killed": 0, "completed": 0, "interrupted_writes": 0}
    while counts["killed"] < kills and counts["attempts"] < 3 * kills + 10:
        target = 1 - side
        timing = counts["attempts"] % REMEASURE == REMEASURE - 1  # now and then, an apply left to finish
        started = time.monotonic()
        code = _apply(variants[target], state, kill_after=None if timing else rng.uniform(0.0, duration * 1.1))
        if timing and code == 0:
            duration = time.monotonic() - started  # the machine's speed changes: so does the window
        counts["attempts"] += 1
        problems = []
        try:
            doc = read_state(state)
        except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
            problems.append(f"state.json is not valid JSON: {exc}")
        else:
            if doc["serial"] == serial and doc["resources"] == resources[side]:
                pass
            elif doc["serial"] == serial + 1 and doc["resources"] == resources[target]:
                serial, side = serial + 1, target
            else:
                problems.append(f"state is neither the old (serial {serial}) nor the new one (found serial {doc['serial']})")
        if code == 0:
            counts["completed"] += 1
            left = leftovers(state)
            if left:
                problems.append(f"a finished apply left {', '.join(left)}")
        elif code == -signal.SIGKILL:
            counts["killed"] += 1
            counts["interrupted_writes"] += bool(leftovers(state))
        else:
            problems.append(f"apply exited {code}")
        with lock:
            trial.runs += code == -signal.SIGKILL
            for problem in problems:
                trial.fail(f"{root.name} attempt {counts['attempts']}: {problem}")
    if _apply(variants[1 - side], state) != 0 or leftovers(state):
        with lock:
            trial.fail(f"{root.name}: the final apply failed or left files behind")
    serial += 1
    chain = audit_chain(state)
    with lock:
        if read_state(state)["serial"] != serial or not unbroken(chain) or len(chain) != serial:
            trial.fail(f"{root.name}: audit log does not record each of the {serial} commits once: {chain[-3:]}")
        for key, value in counts.items():
            trial.facts[key] = trial.facts.get(key, 0) + value
        trial.facts["apply_seconds"] = max(trial.facts.get("apply_seconds", 0.0), round(duration, 2))


def kill_trial(root: Path, kills: int, workers: int = 2, seed: int = 20261123) -> Trial:
    """``kills`` SIGKILLs delivered in total (applies that finished first do not count), split between workers."""
    trial = Trial("SIGKILL during apply")
    lock = threading.Lock()
    share = [kills // workers + (1 if i < kills % workers else 0) for i in range(workers)]
    threads = [threading.Thread(target=_worker, args=(root / f"kill-{i}", n, seed + i, trial, lock)) for i, n in enumerate(share) if n]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return trial.done()
