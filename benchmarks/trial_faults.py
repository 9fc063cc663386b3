"""A disk that fails during ``accessplan apply``: ENOSPC and EIO at every write, fsync, replace and directory fsync.

The JSON backend does its I/O through a few module-level hooks
(``jsonstate._write``, ``_fsync``, ``_replace``, ``_link``, ``_fsync_dir``).
A first apply, run with counting hooks, tells how often each is called; then
every (hook, call number, errno) makes its own apply fail at exactly that call,
in a real ``accessplan apply`` process whose hooks were replaced before the
command ran. Each case checks, end to end:

- the exit code is 0 or 1, never 3, and no traceback is printed;
- a failure says so in one clear line: ``error: could not write state: <what
  failed> (hint: the state is unchanged; ...)`` with the old state intact byte
  for byte, or ``error: state saved as serial N, but its audit record and
  notifications are pending: ...`` with the new state in place; a failure the
  backend may ignore (the lock's holder note, the backup link, for which it
  falls back to a copy) lets the apply succeed;
- the next apply, without faults, succeeds, leaves no temporary file or
  journal, and the audit log records each commit exactly once.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

from trial_common import Trial, audit_chain, family, leftovers, read_state, run_cli, unbroken

HOOKS = ("_write", "_fsync", "_replace", "_fsync_dir", "_link")
ERRNOS = ("ENOSPC", "EIO")

#: Runs before the command: replaces one hook of the JSON backend by one that
#: fails at its FAULT_CALL-th call (or, with FAULT_COUNT, counts every call).
PRELUDE = """
import errno, json, os
from accessplan import jsonstate
_count_file = os.environ.get("FAULT_COUNT")
_calls = {}
def _hooked(name, real):
    def hook(*args):
        _calls[name] = _calls.get(name, 0) + 1
        if _count_file:  # written at each call: the command leaves with os._exit, which skips atexit
            with open(_count_file, "w") as fh:
                fh.write(json.dumps(_calls))
        if name == os.environ.get("FAULT_HOOK") and _calls[name] == int(os.environ["FAULT_CALL"]):
            code = getattr(errno, os.environ["FAULT_ERRNO"])
            if name == "_write":  # a disk that fills up mid-write still writes a little
                os.write(args[0], bytes(args[1][:5]))
            raise OSError(code, os.strerror(code))
        return real(*args)
    return hook
for _name in ("_write", "_fsync", "_replace", "_fsync_dir", "_link"):
    setattr(jsonstate, _name, _hooked(_name, getattr(jsonstate, _name)))
"""

UNCHANGED_HINT = "(hint: the state is unchanged; free space or fix the disk, then apply again)"
PENDING_HINT = "(hint: free space or fix the disk; the next apply or customer action writes them)"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULT_")}
    env.update(extra)
    return env


def _setup(root: Path) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    old, new = root / "old.yaml", root / "new.yaml"
    old.write_text(family(5, 3, "Old Name"), encoding="utf-8")
    new.write_text(family(5, 3, "New Name"), encoding="utf-8")
    base = root / "base-state"
    done = run_cli("apply", str(old), "--state", str(base), "--auto-approve", "--allow-escalation")
    if done.returncode != 0:
        raise RuntimeError(f"fault trial setup: first apply failed: {done.stderr}")
    return old, new, base


def count_calls(root: Path) -> dict[str, int]:
    """How often an apply of one change calls each hook."""
    _, new, base = _setup(root / "count")
    state = root / "count" / "state"
    shutil.copytree(base, state)
    tally = root / "count" / "calls.txt"
    done = run_cli("apply", str(new), "--state", str(state), "--auto-approve", prelude=PRELUDE, env=_env(FAULT_COUNT=str(tally)))
    if done.returncode != 0:
        raise RuntimeError(f"fault trial: counting apply failed: {done.stderr}")
    calls: dict[str, int] = json.loads(tally.read_text())
    return calls


def check_case(root: Path, new: Path, base: Path, hook: str, call: int, code: str) -> tuple[str | None, str]:
    """Run one faulty apply and the clean one after it; (problem or None, outcome)."""
    state = root / f"{hook}-{call}-{code}"
    shutil.copytree(base, state)
    old_bytes = (state / "state.json").read_bytes()
    done = run_cli("apply", str(new), "--state", str(state), "--auto-approve", prelude=PRELUDE,
                   env=_env(FAULT_HOOK=hook, FAULT_CALL=str(call), FAULT_ERRNO=code))
    err = done.stderr.strip().splitlines()
    last = err[-1] if err else ""
    reason = os.strerror(getattr(errno, code))
    if "Traceback" in done.stderr or done.returncode not in (0, 1):
        return f"exit {done.returncode}: {done.stderr.strip()[-300:]}", "crash"
    try:
        doc = read_state(state)
    except ValueError as exc:
        return f"state.json is not valid JSON after the failure: {exc}", "corrupt"
    if done.returncode == 0:
        outcome = "ignored"
        if doc["serial"] != 2:
            return f"apply succeeded but the state has serial {doc['serial']}", outcome
    elif last.startswith("error: could not write state: ") and reason in last and last.endswith(UNCHANGED_HINT):
        outcome = "refused, state unchanged"
        if (state / "state.json").read_bytes() != old_bytes:
            return f"said the state is unchanged, but it changed: {last}", outcome
    elif last.startswith("error: state saved as serial 2, but its audit record and notifications are pending: ") and reason in last and last.endswith(PENDING_HINT):
        outcome = "saved, logs pending"
        if doc["serial"] != 2:
            return f"said serial 2 was saved, found serial {doc['serial']}", outcome
    else:
        return f"unclear message (exit {done.returncode}): {last}", "unclear"
    again = run_cli("apply", str(new), "--state", str(state), "--auto-approve")
    if again.returncode != 0:
        return f"the next apply failed: {again.stderr.strip()[-300:]}", outcome
    final = read_state(state)
    chain = audit_chain(state)
    if final["serial"] != 2 or not unbroken(chain) or len(chain) != 2:
        return f"after the next apply: serial {final['serial']}, audit {chain}", outcome
    if leftovers(state):
        return f"the next apply left {leftovers(state)}", outcome
    shutil.rmtree(state)
    return None, outcome


def fault_trial(root: Path, hooks: tuple[str, ...] = HOOKS, errnos: tuple[str, ...] = ERRNOS, max_calls: int | None = None) -> Trial:
    """Every call of every hook in ``hooks``, failing with each of ``errnos`` (``max_calls``: the first N calls only)."""
    trial = Trial("ENOSPC/EIO at write, fsync, replace, dir fsync")
    calls = count_calls(root)
    _, new, base = _setup(root / "cases")
    outcomes: dict[str, int] = {}
    for hook in hooks:
        for call in range(1, min(calls.get(hook, 0), max_calls or 10**6) + 1):
            for code in errnos:
                problem, outcome = check_case(root / "cases", new, base, hook, call, code)
                trial.runs += 1
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if problem:
                    trial.fail(f"{hook} call {call} {code}: {problem}")
    trial.facts["calls per apply"] = ", ".join(f"{h} {calls.get(h, 0)}" for h in hooks)
    trial.facts.update(sorted(outcomes.items()))
    return trial.done()
