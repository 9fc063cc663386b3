"""Writers racing for one state: no update is lost, and every loser is told who holds the lock.

``writers`` workers each land ``applies`` applies on one state directory, side
by side. Every apply renames the first customer to a name only it uses, so each
one plans exactly one change, against whatever state it finds under the lock.
Half the workers wait for the lock (``--lock-timeout 60``); the other half do
not wait (``--lock-timeout 0``): when they lose, they must be told, in one line,
who holds the lock (actor, pid, host, operation, since), and they retry.

Checked at the end: every worker's applies all succeeded; the audit log has one
record per apply, serials in an unbroken chain (two applies that planned
against the same state would break it), each writer's count right; each
reported serial belongs to exactly one apply; the final state carries the
last writer's name. Each loser's message names a pid among the applies this
trial started, and the actor that pid applied as.
"""

from __future__ import annotations

import random
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import orjson
from trial_common import Trial, accessplan_cmd, audit_chain, family, read_state, run_cli, unbroken

LOCKED = re.compile(
    r"^error: state is locked by (?P<actor>\S+) \(pid (?P<pid>\d+) on (?P<host>\S+), operation (?P<operation>\w+), "
    r"since (?P<since>\S+)\) \(hint: wait for it to finish, or retry with --lock-timeout SECONDS\)$"
)
APPLIED = re.compile(r"State serial (\d+)\.$", re.MULTILINE)
USERS, CUSTOMERS = 10, 5


class _Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pids: dict[int, str] = {}  # pid -> actor, of every apply started
        self.serials: dict[int, str] = {}  # serial -> the apply that reported it
        self.losers: list[tuple[str, str]] = []  # (loser actor, message)
        self.last: tuple[int, str] = (0, "")


def _writer(root: Path, state: Path, index: int, applies: int, admins: tuple[str, ...], shared: _Shared, trial: Trial) -> None:
    actor = admins[index]
    wait = index % 2 == 0
    rng = random.Random(index)
    manifest = root / f"writer-{index}.yaml"
    done_count = 0
    for k in range(applies):
        name = f"Writer {index} apply {k}"
        manifest.write_text(family(USERS, CUSTOMERS, name, admins), encoding="utf-8")
        while True:
            argv = accessplan_cmd("apply", str(manifest), "--state", str(state), "--auto-approve", "--as", actor,
                                  "--lock-timeout", "60" if wait else "0")
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            with shared.lock:
                shared.pids[proc.pid] = actor
            out, err = proc.communicate(timeout=300)
            if proc.returncode == 0:
                found = APPLIED.search(out)
                with shared.lock:
                    if not found:
                        trial.fail(f"{actor} apply {k}: succeeded without saying the new serial: {out[-200:]}")
                    else:
                        serial = int(found.group(1))
                        if serial in shared.serials:
                            trial.fail(f"serial {serial} reported by both {shared.serials[serial]} and {actor} apply {k}")
                        shared.serials[serial] = f"{actor} apply {k}"
                        if serial > shared.last[0]:
                            shared.last = (serial, name)
                done_count += 1
                break
            message = err.strip()
            if not wait and proc.returncode == 1 and message.startswith("error: state is locked by "):
                with shared.lock:
                    shared.losers.append((actor, message))
                time.sleep(rng.uniform(0.0, 0.2))
                continue
            with shared.lock:
                trial.fail(f"{actor} apply {k}: exit {proc.returncode}: {message[-300:]}")
            break
    with shared.lock:
        trial.runs += done_count


def lock_trial(root: Path, writers: int = 8, applies: int = 50) -> Trial:
    trial = Trial(f"{writers} processes x {applies} applies")
    root.mkdir(parents=True, exist_ok=True)
    state = root / "state"
    admins = tuple(f"writer{i}@acme.example" for i in range(writers))
    first = root / "first.yaml"
    first.write_text(family(USERS, CUSTOMERS, "First", admins), encoding="utf-8")
    done = run_cli("apply", str(first), "--state", str(state), "--auto-approve", "--allow-escalation")
    if done.returncode != 0:
        raise RuntimeError(f"lock trial setup failed: {done.stderr}")
    shared = _Shared()
    threads = [threading.Thread(target=_writer, args=(root, state, i, applies, admins, shared, trial)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = audit_chain(state)
    expected = 1 + writers * applies
    if len(chain) != expected or not unbroken(chain):
        trial.fail(f"audit log: {len(chain)} records (expected {expected}), chain unbroken: {unbroken(chain)}")
    actors = [orjson.loads(line).get("actor") for line in (state / "audit.jsonl").read_bytes().splitlines()][1:]
    for actor in admins:
        if actors.count(actor) != applies:
            trial.fail(f"audit log: {actor} has {actors.count(actor)} applies, expected {applies}")
    doc = read_state(state)
    if doc["serial"] != expected or doc["resources"]["customer/c000"]["spec"]["name"] != shared.last[1]:
        trial.fail(f"final state: serial {doc['serial']}, name {doc['resources']['customer/c000']['spec']['name']!r}, "
                   f"expected serial {expected} and {shared.last[1]!r}")
    named = 0
    host = socket.gethostname()
    for loser, message in shared.losers:
        found = LOCKED.match(message)
        if not found:
            trial.fail(f"{loser} lost the lock and was not told who holds it: {message}")
            continue
        holder = shared.pids.get(int(found["pid"]))
        if holder is None or holder != found["actor"] or found["host"] != host or found["operation"] != "apply" or holder == loser:
            trial.fail(f"{loser} was told a wrong holder: {message} (that pid applied as {holder})")
            continue
        named += 1
    trial.facts["applies"] = trial.runs
    trial.facts["lost updates"] = expected - 1 - len(set(shared.serials))
    trial.facts["losers (no wait)"] = len(shared.losers)
    trial.facts["losers told the holder"] = named
    return trial.done()
