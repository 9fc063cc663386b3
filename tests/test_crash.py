"""Crash safety: ``accessplan apply`` killed at random moments never breaks the state.

The apply is a real subprocess writing a state of a few megabytes. Each trial
kills it with SIGKILL after a delay drawn uniformly over the whole duration of
an uninterrupted apply (start-up, planning, and the write itself), then checks
that ``state.json`` is valid JSON and exactly the old or the new state, and
that temporary files a killed writer left are gone once an apply succeeds.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
from plan_helpers import accessplan_cmd, big_manifest

TRIALS = 50
USERS, CUSTOMERS = 60, 50  # 3,050 assignments: a state of about 1.5 MB


def run_apply(manifest: Path, state: Path, *extra: str, kill_after: float | None = None) -> int:
    proc = subprocess.Popen(
        accessplan_cmd("apply", str(manifest), "--state", str(state), "--auto-approve", "--lock-timeout", "30", *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if kill_after is None:
        return proc.wait(timeout=120)
    try:
        return proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=30)


def temporary_files(state: Path) -> list[str]:
    return sorted(p.name for p in state.iterdir() if ".tmp-" in p.name)


def load(state: Path) -> dict[str, Any]:
    doc = orjson.loads((state / "state.json").read_bytes())  # raises if not valid JSON
    assert isinstance(doc, dict)
    return doc


def test_apply_killed_at_random_moments_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    variants = []
    for name in ("Alpha", "Beta"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(big_manifest(USERS, CUSTOMERS, name), encoding="utf-8")
        variants.append(path)
    state = tmp_path / "state"
    assert run_apply(variants[0], state, "--allow-escalation") == 0
    resources = [load(state)["resources"]]
    started = time.monotonic()
    assert run_apply(variants[1], state) == 0
    duration = time.monotonic() - started
    resources.append(load(state)["resources"])
    assert resources[0] != resources[1]
    serial, side = 2, 1  # the state holds variant 1 at serial 2
    rng = random.Random(20261123)
    killed = completed = 0
    for _ in range(TRIALS):
        target = 1 - side
        # The window runs past one measured apply (1.5x), as the backend suite's
        # does: applies vary in length, and the end of the apply must be reached too.
        code = run_apply(variants[target], state, kill_after=rng.uniform(0.0, 1.5 * duration))
        doc = load(state)
        if doc["serial"] == serial:
            assert doc["resources"] == resources[side]
        else:
            assert doc["serial"] == serial + 1
            assert doc["resources"] == resources[target]
            serial, side = serial + 1, target
        if code == 0:
            completed += 1
            assert temporary_files(state) == []
        else:
            assert code == -signal.SIGKILL
            killed += 1
    assert killed >= TRIALS // 4 and completed >= 1, (killed, completed)
    # The next apply that succeeds cleans up whatever a killed writer left.
    assert run_apply(variants[1 - side], state) == 0
    serial += 1
    assert load(state)["serial"] == serial
    assert temporary_files(state) == []
    audit = [orjson.loads(line) for line in (state / "audit.jsonl").read_bytes().splitlines()]
    assert [(a["serial_before"], a["serial_after"]) for a in audit] == [(None, 1)] + [(n, n + 1) for n in range(1, serial)]
