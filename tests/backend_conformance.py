"""The contract every state backend keeps, as one suite any backend can run.

A backend's test module subclasses :class:`BackendConformance` and provides a
``harness`` fixture: an object that opens backends on one fresh store and can
look at (and damage) what is stored without going through the backend. The
JSON directory backend runs it in ``test_state_conformance_json.py``; a
PostgreSQL backend runs the very same tests with its own harness.

Processes, not threads, play the other writers: locks and crashes are about
processes, and a child opens the store with ``open_backend(harness.location)``
just as another accessplan would.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Protocol

import pytest

from accessplan.errors import StateError
from accessplan.state import Backend, State

PARTNER = "acme-mssp"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LINEAGE = "0f8e4c52-6a8b-4b7e-9a43-5d2f7c1e9b10"


class Harness(Protocol):
    """One fresh, empty store, and ways to inspect it from outside the backend."""

    location: str  # what open_backend() takes
    state_label: str  # how messages name the state document

    def open(self) -> Backend: ...
    def raw_state(self) -> bytes | None: ...
    def put_raw_state(self, data: bytes) -> None: ...
    def raw_backup(self) -> bytes | None: ...
    def snapshot(self) -> dict[str, bytes]: ...  # everything stored, to prove "left untouched"
    def leftovers(self) -> list[str]: ...  # what a killed writer may leave and the next writer removes


#: The lock error's hint; a harness whose backend says more sets ``lock_hint``.
LOCK_HINT = "wait for it to finish, or retry with --lock-timeout SECONDS"


def lock_hint(harness: Harness) -> str:
    return str(getattr(harness, "lock_hint", LOCK_HINT))


def make_state(serial: int, count: int = 3, lineage: str = LINEAGE, partner: str | None = PARTNER) -> State:
    resources = {
        f"assignment/globex/analyst{i}@acme.example": {
            "spec": {"platform_admin": i == 0, "products": ["InsightIDR"], "roles": ["InsightIDR Analyst"]},
            "status": {"granted_at": "2026-11-23T09:00:00Z", "granted_by": "alice@acme.example"},
        }
        for i in range(count)
    }
    resources["customer/globex"] = {"spec": {"name": "Globex Corporation"}, "status": {"status": "approved"}}
    return State(lineage=lineage, serial=serial, partner=partner, resources=resources)


def audit(serial: int) -> dict[str, Any]:
    return {"actor": "alice@acme.example", "plan": f"sha256:{serial:064x}", "serial_after": serial, "serial_before": serial - 1, "time": "2026-11-23T09:00:00Z"}


def commit(backend: Backend, new: State, expected: tuple[str, int] | None, notifications: list[dict[str, Any]] | None = None) -> None:
    with backend.lock(operation="apply", actor="alice@acme.example", timeout=5, now=NOW):
        backend.commit(new, expected=expected, audit=audit(new.serial), notifications=notifications or [])


def seeded(harness: Harness, serial: int = 1) -> Backend:
    backend = harness.open()
    commit(backend, make_state(serial), None)
    return backend


_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timezone
    from accessplan.state import State, open_backend
    location, mode = sys.argv[1], sys.argv[2]
    backend = open_backend(location)
    if mode == "hold":  # hold the lock until told to go, or for a given time
        actor, operation, wait = sys.argv[3] or None, sys.argv[4], float(sys.argv[5])
        now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
        with backend.lock(operation=operation, actor=actor, timeout=0, now=now):
            print("locked", flush=True)
            if wait < 0:
                sys.stdin.readline()
            else:
                time.sleep(wait)
    elif mode == "bump":  # apply: read, add one resource, commit serial + 1; `count` times
        name, count = sys.argv[3], int(sys.argv[4])
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        for _ in range(count):
            with backend.lock(operation="apply", actor=name, timeout=60):
                cur = backend.read("acme-mssp")
                new = State(cur.lineage, cur.serial + 1, cur.partner, dict(cur.resources))
                new.resources[f"test/{name}/{new.serial}"] = {"spec": {"serial": new.serial}, "status": {}}
                notes = [{"event": "access_granted", "serial": new.serial, "user": f"u{i}@acme.example"} for i in range(3)]
                backend.commit(new, expected=(cur.lineage, cur.serial), audit={"serial_after": new.serial, "writer": name}, notifications=notes)
        print("done", time.perf_counter() - started, flush=True)
    """
)


def child(harness: Harness, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, harness.location, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@contextmanager
def holder(harness: Harness, actor: str = "alice@acme.example", operation: str = "apply", wait: float = -1) -> Iterator[subprocess.Popen[str]]:
    proc = child(harness, "hold", actor, operation, str(wait))
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


class BackendConformance:
    """Run by every backend; ``harness`` comes from the backend's own test module."""

    # -- lineage, serial, canonical document -------------------------------

    def test_no_state_yet_reads_none(self, harness: Harness) -> None:
        assert harness.open().read(PARTNER) is None
        assert harness.open().audit_log() == []
        assert harness.open().outbox() == []

    def test_first_commit_stores_the_canonical_document(self, harness: Harness) -> None:
        backend = harness.open()
        commit(backend, make_state(1), None)
        assert harness.raw_state() == make_state(1).to_bytes()
        assert harness.open().read(PARTNER) == make_state(1)
        assert harness.raw_backup() is None

    def test_next_commit_raises_serial_and_backs_up_the_previous_state(self, harness: Harness) -> None:
        backend = seeded(harness)
        before = harness.raw_state()
        commit(backend, make_state(2, count=5), (LINEAGE, 1))
        state = harness.open().read(PARTNER)
        assert state is not None and (state.lineage, state.serial, len(state.resources)) == (LINEAGE, 2, 6)
        assert harness.raw_backup() == before

    def test_state_of_no_partner_is_read_by_anyone(self, harness: Harness) -> None:
        commit(harness.open(), make_state(1, partner=None), None)
        assert harness.open().read(PARTNER) == make_state(1, partner=None)

    # -- compare-and-swap --------------------------------------------------

    @pytest.mark.parametrize(
        ("expected", "message"),
        [
            ((LINEAGE, 0), f"state moved on: expected lineage {LINEAGE} serial 0, found lineage {LINEAGE} serial 1"),
            (("7d4cf0a1-5d2e-4a8f-8f43-3b7e2b9a6c55", 1), f"state moved on: expected lineage 7d4cf0a1-5d2e-4a8f-8f43-3b7e2b9a6c55 serial 1, found lineage {LINEAGE} serial 1"),
            (None, f"state moved on: expected no state, found lineage {LINEAGE} serial 1"),
        ],
    )
    def test_stale_commit_is_refused_and_changes_nothing(self, harness: Harness, expected: tuple[str, int] | None, message: str) -> None:
        backend = seeded(harness)
        before = harness.snapshot()
        with pytest.raises(StateError) as caught:
            commit(backend, make_state(2), expected)
        assert caught.value.render() == f"error: {message} (hint: the state changed since it was read; plan again)"
        assert harness.snapshot() == before

    def test_commit_against_a_state_that_vanished_is_refused(self, harness: Harness) -> None:
        with pytest.raises(StateError) as caught:
            commit(harness.open(), make_state(2), (LINEAGE, 1))
        assert caught.value.message == f"state moved on: expected lineage {LINEAGE} serial 1, found no state"
        assert harness.raw_state() is None

    def test_a_writer_that_read_earlier_loses_to_one_that_committed_since(self, harness: Harness) -> None:
        seeded(harness)
        first, second = harness.open(), harness.open()
        assert first.read(PARTNER) is not None and second.read(PARTNER) is not None
        commit(first, make_state(2), (LINEAGE, 1))
        after_first = harness.snapshot()
        with pytest.raises(StateError, match="state moved on"):
            commit(second, make_state(2, count=9), (LINEAGE, 1))
        assert harness.snapshot() == after_first

    def test_commit_outside_the_lock_is_a_programming_error(self, harness: Harness) -> None:
        with pytest.raises(RuntimeError):
            harness.open().commit(make_state(1), expected=None, audit=audit(1))
        assert harness.raw_state() is None

    # -- audit and outbox --------------------------------------------------

    def test_every_commit_appends_its_audit_record_and_notifications(self, harness: Harness) -> None:
        backend = seeded(harness)
        notes = [
            {"customer": "globex", "event": "access_granted", "serial": 2, "time": "2026-11-23T09:00:00Z", "user": "bob@acme.example"},
            {"customer": "globex", "event": "access_removed", "serial": 2, "time": "2026-11-23T09:00:00Z", "user": "eve@acme.example"},
        ]
        commit(backend, make_state(2), (LINEAGE, 1), notes)
        assert harness.open().audit_log() == [audit(1), audit(2)]
        assert harness.open().outbox() == notes

    def test_a_refused_commit_leaves_no_record(self, harness: Harness) -> None:
        backend = seeded(harness)
        with pytest.raises(StateError):
            commit(backend, make_state(3), (LINEAGE, 2), [{"event": "access_granted", "serial": 3}])
        assert backend.audit_log() == [audit(1)]
        assert backend.outbox() == []

    # -- states that are refused, and left alone --------------------------

    def test_a_state_of_another_partner_is_refused_and_left_untouched(self, harness: Harness) -> None:
        backend = seeded(harness)
        before = harness.snapshot()
        with pytest.raises(StateError) as caught:
            backend.read("initech-mssp")
        assert caught.value.render() == (
            "error: state belongs to partner 'acme-mssp', the manifest declares 'initech-mssp' "
            f"(hint: {harness.state_label} holds another partner's state; point --state at this partner's state)"
        )
        assert harness.snapshot() == before

    @pytest.mark.parametrize(
        ("raw", "message", "hint"),
        [
            (b'{"format_version": 1, "lineage": ', "state is not valid JSON (line 1 column 34)", "fix or restore it by hand; accessplan never overwrites a state it cannot read"),
            (b"", "state is empty", "fix or restore it by hand; accessplan never overwrites a state it cannot read"),
            (b'["a list"]\n', "not an accessplan state: the document is not a JSON object", "fix or restore it by hand; accessplan never overwrites a state it cannot read"),
            (
                b'{"format_version": 2, "lineage": "x", "serial": 1, "partner": "acme-mssp", "resources": {}, "new_thing": 1}\n',
                "state was written by a newer accessplan (format_version 2; this one reads 1)",
                "upgrade accessplan to work with this state",
            ),
        ],
        ids=["truncated", "empty", "not-an-object", "newer"],
    )
    def test_a_broken_or_newer_state_is_refused_and_never_replaced(self, harness: Harness, raw: bytes, message: str, hint: str) -> None:
        harness.put_raw_state(raw)
        before = harness.snapshot()
        backend = harness.open()
        with pytest.raises(StateError) as caught:
            backend.read(PARTNER)
        assert caught.value.render() == f"error: {harness.state_label}: {message} (hint: {hint})"
        with pytest.raises(StateError) as again:
            commit(backend, make_state(1), None)
        assert again.value.render() == caught.value.render()
        assert harness.snapshot() == before

    # -- locking -----------------------------------------------------------

    def test_a_held_lock_names_its_holder(self, harness: Harness) -> None:
        with holder(harness) as proc, pytest.raises(StateError) as caught, harness.open().lock(operation="apply", actor="bob@acme.example", timeout=0):
            pytest.fail("the lock is held by another process")
        assert caught.value.render() == (
            f"error: state is locked by alice@acme.example (pid {proc.pid} on {socket.gethostname()}, operation apply, since 2026-11-23T09:00:00Z) "
            f"(hint: {lock_hint(harness)})"
        )

    def test_a_holder_without_actor_is_named_unknown(self, harness: Harness) -> None:
        with holder(harness, actor="", operation="customer approve") as proc, pytest.raises(StateError) as caught, harness.open().lock(operation="apply", actor=None, timeout=0):
            pytest.fail("the lock is held by another process")
        assert caught.value.message == (
            f"state is locked by unknown (pid {proc.pid} on {socket.gethostname()}, operation customer approve, since 2026-11-23T09:00:00Z)"
        )

    def test_the_lock_excludes_another_backend_object_in_the_same_process(self, harness: Harness) -> None:
        with harness.open().lock(operation="apply", actor="alice@acme.example", timeout=0, now=NOW), pytest.raises(StateError) as caught:
            with harness.open().lock(operation="apply", actor=None, timeout=0):
                pytest.fail("the lock is already held")
        assert caught.value.message == f"state is locked by alice@acme.example (pid {os.getpid()} on {socket.gethostname()}, operation apply, since 2026-11-23T09:00:00Z)"
        with harness.open().lock(operation="apply", actor=None, timeout=0):
            pass

    def test_lock_timeout_waits_that_long_then_fails(self, harness: Harness) -> None:
        with holder(harness):
            started = time.monotonic()
            with pytest.raises(StateError, match="^state is locked by alice@acme.example"), harness.open().lock(operation="apply", actor=None, timeout=0.4):
                pytest.fail("the lock is held by another process")
            assert time.monotonic() - started >= 0.4

    def test_lock_timeout_waits_for_a_holder_that_finishes(self, harness: Harness) -> None:
        with holder(harness, wait=0.3):
            started = time.monotonic()
            with harness.open().lock(operation="apply", actor=None, timeout=20):
                assert time.monotonic() - started >= 0.1

    def test_a_killed_holder_leaves_no_stale_lock(self, harness: Harness) -> None:
        with holder(harness) as proc:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with harness.open().lock(operation="apply", actor=None, timeout=0):
                pass

    def test_the_lock_is_released_when_the_body_fails(self, harness: Harness) -> None:
        backend = harness.open()
        with pytest.raises(ZeroDivisionError), backend.lock(operation="apply", actor=None, timeout=0):
            raise ZeroDivisionError
        with harness.open().lock(operation="apply", actor=None, timeout=0):
            pass

    # -- concurrency and crashes ------------------------------------------

    def test_concurrent_writers_lose_no_update(self, harness: Harness) -> None:
        seeded(harness, serial=0)
        writers, rounds = 4, 5
        procs = [child(harness, "bump", f"w{i}", str(rounds)) for i in range(writers)]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0 and out.startswith("done")
        state = harness.open().read(PARTNER)
        total = writers * rounds
        assert state is not None and state.serial == total
        assert sorted(a for a in state.resources if a.startswith("test/")) == sorted(
            f"test/{r['writer']}/{r['serial_after']}" for r in harness.open().audit_log()[1:]
        )
        assert [r["serial_after"] for r in harness.open().audit_log()] == list(range(total + 1))
        assert [n["serial"] for n in harness.open().outbox()] == [s for s in range(1, total + 1) for _ in range(3)]

    def test_a_writer_killed_at_any_moment_leaves_the_old_or_the_new_state(self, harness: Harness) -> None:
        """SIGKILL an apply at moments spread evenly over its whole length, 50 times.

        The length is measured on unkilled applies, again every ten trials so
        that a machine that slows down still sees kills after the commit; the
        kill window runs past it (1.5x), so that the end of the apply is
        covered too.
        """
        commit(harness.open(), make_state(0, count=3000), None)
        rng = random.Random(20261123)
        trials, outcomes, debris = 50, {"old": 0, "new": 0}, 0
        length = 0.0
        for trial in range(trials):
            if trial % 10 == 0:
                length = max([length] + [self._run_bump(harness, kill_after=None) for _ in range(2)])
            before = harness.open().read(PARTNER)
            assert before is not None
            self._run_bump(harness, kill_after=1.5 * length * (trial + rng.random()) / trials)
            debris += bool(harness.leftovers())
            after = harness.open().read(PARTNER)  # valid, of this partner: else StateError
            assert after is not None and after.lineage == before.lineage
            if after.serial == before.serial:
                assert after == before
                outcomes["old"] += 1
            else:
                assert after.serial == before.serial + 1
                assert set(after.resources) - set(before.resources) == {f"test/crash/{after.serial}"}
                outcomes["new"] += 1
        assert outcomes["old"] > 0 and outcomes["new"] > 0 and debris > 0, (outcomes, debris)
        self._run_bump(harness, kill_after=None)  # the next apply cleans up after the killed ones
        assert harness.leftovers() == []
        final = harness.open().read(PARTNER)
        assert final is not None
        serials = list(range(final.serial + 1))
        assert [r["serial_after"] for r in harness.open().audit_log()] == serials
        assert sorted({n["serial"] for n in harness.open().outbox()}) == serials[1:]
        assert len(harness.open().outbox()) == 3 * final.serial

    @staticmethod
    def _run_bump(harness: Harness, kill_after: float | None) -> float:
        """One apply in a child; killed ``kill_after`` seconds after "go", or timed to its end."""
        proc = child(harness, "bump", "crash", "1")
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == "ready\n"
        started = time.perf_counter()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        if kill_after is not None:
            time.sleep(kill_after)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            return time.perf_counter() - started
        done = proc.stdout.readline()
        length = time.perf_counter() - started  # "go" to the end of its commit, without interpreter exit
        proc.communicate(timeout=60)
        assert proc.returncode == 0 and done.startswith("done ")
        return length
