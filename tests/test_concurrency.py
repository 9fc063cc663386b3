"""Several ``accessplan apply`` processes at once: every update lands, waiters learn who holds the lock."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
from plan_helpers import T0, accessplan_cmd, big_manifest

WRITERS = 4


def test_concurrent_applies_lose_no_update(tmp_path: Path) -> None:
    state = tmp_path / "state"
    manifests = []
    for i in range(WRITERS + 1):
        path = tmp_path / f"v{i}.yaml"
        path.write_text(big_manifest(20, 10, f"Name {i}"), encoding="utf-8")
        manifests.append(path)
    first = subprocess.run(accessplan_cmd("apply", str(manifests[0]), "--state", str(state), "--auto-approve", "--allow-escalation"),
                           check=False, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    procs = [
        subprocess.Popen(accessplan_cmd("apply", str(m), "--state", str(state), "--auto-approve", "--lock-timeout", "60", "--change-ref", f"w{i}"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, m in enumerate(manifests[1:], start=1)
    ]
    results = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0] * WRITERS, results
    audit = [orjson.loads(line) for line in (state / "audit.jsonl").read_bytes().splitlines()]
    # Each writer planned under the lock against the state the previous one left:
    # one record per apply, serials in an unbroken chain, nobody overwrote anybody.
    assert [(a["serial_before"], a["serial_after"]) for a in audit] == [(None, 1)] + [(n, n + 1) for n in range(1, WRITERS + 1)]
    # (each writer is told apart by its --change-ref: --as would need partner users with authority)
    assert sorted(a["change_ref"] for a in audit[1:]) == [f"w{i}" for i in range(1, WRITERS + 1)]
    assert all(a["changes"] == [{"action": "update", "address": "customer/c000", "reason": "changed"}] for a in audit[1:])
    last = int(audit[-1]["change_ref"][1])
    doc = orjson.loads((state / "state.json").read_bytes())
    assert doc["serial"] == WRITERS + 1
    assert doc["resources"]["customer/c000"]["spec"]["name"] == f"Name {last}"


HOLDER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timezone
    from accessplan.state import open_backend
    backend = open_backend(sys.argv[1])
    with backend.lock(operation="apply", actor="holder@acme.example", timeout=0, now=datetime(2026, 11, 23, 9, tzinfo=timezone.utc)):
        print("locked", flush=True)
        sys.stdin.read()
    """
)


def test_a_waiter_that_times_out_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    state = tmp_path / "state"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(big_manifest(3, 1, "Solo"), encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        waiter = subprocess.run(accessplan_cmd("apply", str(manifest), "--state", str(state), "--auto-approve", "--lock-timeout", "0.5"),
                                check=False, capture_output=True, text=True, timeout=60)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert waiter.returncode == 1
    assert waiter.stderr == (
        f"error: state is locked by holder@acme.example (pid {holder.pid} on {socket.gethostname()}, operation apply, since {T0}) "
        "(hint: wait for it to finish, or retry with --lock-timeout SECONDS)\n"
    )
    assert not (state / "state.json").exists()
