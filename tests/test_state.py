"""The state document and what only the JSON directory backend does.

The contract every backend keeps is in backend_conformance.py; here: the
document's checks and canonical bytes, ``open_backend``, and the JSON
backend's own machinery -- failing disks (through its fault-injection hooks),
the journal that finishes an interrupted write, cleanup of temporary files,
the holder-info file and the line-oriented logs.
"""

from __future__ import annotations

import errno
import gc
import os
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accessplan import jsonstate
from accessplan.errors import StateError
from accessplan.jsonstate import JsonBackend
from accessplan.state import FORMAT_VERSION, State, open_backend, redact_url

LINEAGE = "0f8e4c52-6a8b-4b7e-9a43-5d2f7c1e9b10"
UNREADABLE = "fix or restore it by hand; accessplan never overwrites a state it cannot read"
HOOKS = ("_write", "_fsync", "_replace", "_link", "_fsync_dir")


def small_state(serial: int, name: str = "Globex Corporation") -> State:
    return State(
        lineage=LINEAGE,
        serial=serial,
        partner="acme-mssp",
        resources={
            "customer/globex": {"spec": {"name": name, "region": "eu"}, "status": {"status": "approved"}},
            "assignment/globex/bob@acme.example": {"spec": {"platform_admin": False}, "status": {"granted_by": "alice@acme.example"}},
        },
    )


def doc(**changes: Any) -> bytes:
    base: dict[str, Any] = {"format_version": 1, "lineage": LINEAGE, "partner": "acme-mssp", "resources": {}, "serial": 3}
    base.update(changes)
    return orjson.dumps({k: v for k, v in base.items() if v is not _DROP})


_DROP = object()


# -- the document ------------------------------------------------------------


def test_new_state_has_a_fresh_lineage_and_nothing_else() -> None:
    first, second = State.new("acme-mssp"), State.new("acme-mssp")
    assert uuid.UUID(first.lineage).version == 4 and first.lineage != second.lineage
    assert (first.serial, first.partner, first.resources) == (0, "acme-mssp", {})


def test_to_bytes_is_the_canonical_document() -> None:
    assert small_state(7).to_bytes() == (
        b"{\n"
        b'  "format_version": 1,\n'
        b'  "lineage": "0f8e4c52-6a8b-4b7e-9a43-5d2f7c1e9b10",\n'
        b'  "partner": "acme-mssp",\n'
        b'  "resources": {\n'
        b'    "assignment/globex/bob@acme.example": {\n'
        b'      "spec": {\n'
        b'        "platform_admin": false\n'
        b"      },\n"
        b'      "status": {\n'
        b'        "granted_by": "alice@acme.example"\n'
        b"      }\n"
        b"    },\n"
        b'    "customer/globex": {\n'
        b'      "spec": {\n'
        b'        "name": "Globex Corporation",\n'
        b'        "region": "eu"\n'
        b"      },\n"
        b'      "status": {\n'
        b'        "status": "approved"\n'
        b"      }\n"
        b"    }\n"
        b"  },\n"
        b'  "serial": 7\n'
        b"}\n"
    )


def test_specs_are_the_spec_side_of_every_resource() -> None:
    assert small_state(1).specs() == {
        "customer/globex": {"name": "Globex Corporation", "region": "eu"},
        "assignment/globex/bob@acme.example": {"platform_admin": False},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{}", "state is not valid UTF-8 (line 1 column 1)"),
        (b'{"format_version": 1,\n  "lineage": }', "state is not valid JSON (line 2 column 14)"),
        (b"  \n", "state is empty"),
        (b"42", "not an accessplan state: the document is not a JSON object"),
        (doc(format_version=_DROP), "not an accessplan state: it has no format_version"),
        (doc(format_version="1"), 'not an accessplan state: format_version is "1", not a number'),
        (doc(format_version=True), "not an accessplan state: format_version is true, not a number"),
        (doc(format_version=0), "state has format_version 0, which this accessplan cannot read (it reads 1)"),
        (doc(extra=1), "not an accessplan state: unknown key 'extra'"),
        (doc(resources=_DROP), "not an accessplan state: missing key 'resources'"),
        (doc(lineage="main"), "not an accessplan state: lineage is not a UUID"),
        (doc(lineage=7), "not an accessplan state: lineage is not a UUID"),
        (doc(serial=-1), "not an accessplan state: serial is not a whole number >= 0"),
        (doc(serial=True), "not an accessplan state: serial is not a whole number >= 0"),
        (doc(serial=1.5), "not an accessplan state: serial is not a whole number >= 0"),
        (doc(partner=["acme"]), "not an accessplan state: partner is not a string"),
        (doc(resources=[]), "not an accessplan state: resources is not an object"),
        (doc(resources={"customer/x": {"spec": {}}}), "not an accessplan state: resource 'customer/x' is not {\"spec\": {...}, \"status\": {...}}"),
        (doc(resources={"customer/x": {"spec": [], "status": {}}}), "not an accessplan state: resource 'customer/x' is not {\"spec\": {...}, \"status\": {...}}"),
        (doc(resources={"customer/x": {"spec": {}, "status": {}, "x": 1}}), "not an accessplan state: resource 'customer/x' is not {\"spec\": {...}, \"status\": {...}}"),
    ],
)
def test_a_malformed_document_is_refused_with_its_reason(data: bytes, message: str) -> None:
    with pytest.raises(StateError) as caught:
        State.from_bytes(data, "st/state.json")
    assert caught.value.render() == f"error: st/state.json: {message} (hint: {UNREADABLE})"


def test_a_newer_document_asks_for_an_upgrade() -> None:
    with pytest.raises(StateError) as caught:
        State.from_bytes(doc(format_version=FORMAT_VERSION + 1), "st/state.json")
    assert caught.value.render() == (
        "error: st/state.json: state was written by a newer accessplan (format_version 2; this one reads 1) (hint: upgrade accessplan to work with this state)"
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_pauses_the_garbage_collector_and_restores_it(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        State.from_bytes(small_state(1).to_bytes(), "st/state.json")
        with pytest.raises(StateError):
            State.from_bytes(b"[", "st/state.json")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


_json_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | _json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_json_text, inner, max_size=4),
    max_leaves=12,
)
_resources = st.dictionaries(
    _json_text,
    st.fixed_dictionaries({"spec": st.dictionaries(_json_text, _json_value, max_size=4), "status": st.dictionaries(_json_text, _json_value, max_size=3)}),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(resources=_resources, serial=st.integers(0, 2**40), partner=st.none() | _json_text)
def test_any_state_round_trips_and_its_bytes_do_not_depend_on_insertion_order(resources: dict[str, Any], serial: int, partner: str | None) -> None:
    state = State(lineage=LINEAGE, serial=serial, partner=partner, resources=resources)
    data = state.to_bytes()
    assert State.from_bytes(data, "st/state.json") == state
    reordered = {addr: {"status": dict(reversed(r["status"].items())), "spec": dict(reversed(r["spec"].items()))} for addr, r in reversed(resources.items())}
    assert State(lineage=LINEAGE, serial=serial, partner=partner, resources=reordered).to_bytes() == data


# -- choosing a backend ------------------------------------------------------


def test_a_directory_opens_the_json_backend(tmp_path: Path) -> None:
    backend = open_backend(str(tmp_path / "st"))
    assert isinstance(backend, JsonBackend) and backend.location == str(tmp_path / "st")


@pytest.mark.parametrize(
    ("location", "message", "hint"),
    [
        ("s3://bucket/state", "unsupported state location 's3://bucket/state'", "give a directory, or a postgresql:// URL"),
    ],
)
def test_other_locations_are_refused_without_their_password(location: str, message: str, hint: str) -> None:
    with pytest.raises(StateError) as caught:
        open_backend(location)
    assert caught.value.render() == f"error: {message} (hint: {hint})"


def test_redact_url_keeps_everything_but_the_password() -> None:
    assert redact_url("postgresql://u:p@h:1/db?sslmode=require") == "postgresql://u:***@h:1/db?sslmode=require"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


# -- the JSON backend's own behaviour ---------------------------------------


@pytest.fixture()
def location(tmp_path: Path) -> str:
    return str(tmp_path / "st")


def commit(backend: JsonBackend, new: State, expected: tuple[str, int] | None, notes: list[dict[str, Any]] | None = None) -> None:
    with backend.lock(operation="apply", actor="alice@acme.example", timeout=0):
        backend.commit(new, expected=expected, audit={"serial_after": new.serial}, notifications=notes or [])


def files(location: str) -> list[str]:
    return sorted(os.listdir(location))


def test_the_directory_holds_the_documented_files(location: str) -> None:
    backend = JsonBackend(location)
    commit(backend, small_state(1), None, [{"serial": 1}])
    commit(backend, small_state(2), (LINEAGE, 1), [{"serial": 2}])
    assert files(location) == ["audit.jsonl", "outbox.jsonl", "state.json", "state.json.backup", "state.lock"]
    assert Path(location, "audit.jsonl").read_bytes() == b'{"serial_after":1}\n{"serial_after":2}\n'
    assert Path(location, "state.json.backup").read_bytes() == small_state(1).to_bytes()


def test_the_holder_is_recorded_while_the_lock_is_held_and_removed_after(location: str) -> None:
    backend = JsonBackend(location)
    with backend.lock(operation="customer approve", actor="it@globex.example", timeout=0, now=datetime(2026, 11, 23, 10, 30, 5, tzinfo=timezone.utc)):
        info = orjson.loads(Path(location, "state.lock.info").read_bytes())
        assert info == {"actor": "it@globex.example", "host": os.uname().nodename, "operation": "customer approve", "pid": os.getpid(), "since": "2026-11-23T10:30:05Z"}
    assert files(location) == ["state.lock"]


def test_a_holder_that_has_not_recorded_itself_is_still_reported(location: str) -> None:
    with JsonBackend(location).lock(operation="apply", actor=None, timeout=0):
        os.unlink(Path(location, "state.lock.info"))
        with pytest.raises(StateError) as caught, JsonBackend(location).lock(operation="apply", actor=None, timeout=0):
            pytest.fail("the lock is held")
    assert caught.value.render() == "error: state is locked by another process (it has not said who yet) (hint: wait for it to finish, or retry with --lock-timeout SECONDS)"


def test_reads_do_not_wait_for_the_lock(location: str) -> None:
    commit(JsonBackend(location), small_state(1), None)
    with JsonBackend(location).lock(operation="apply", actor=None, timeout=0):
        assert JsonBackend(location).read("acme-mssp") == small_state(1)


def test_the_next_writer_removes_what_a_killed_writer_left_and_nothing_else(location: str) -> None:
    commit(JsonBackend(location), small_state(1), None)
    left = [".state.json.tmp-4242-0a1b2c3d", ".state.json.backup.tmp-17-ffffffff", ".state.json.journal.tmp-9-00", ".state.lock.info.tmp-5-abcdef01"]
    kept = [".state.json.tmp-by-hand", "notes.txt", ".gitignore"]
    for name in left + kept:
        Path(location, name).write_bytes(b"partial")
    before = files(location)
    JsonBackend(location).read("acme-mssp")
    assert files(location) == before  # reading cleans nothing: a writer may be at work
    with JsonBackend(location).lock(operation="apply", actor=None, timeout=0):
        pass
    assert files(location) == sorted(kept + ["audit.jsonl", "state.json", "state.lock"])


def test_a_state_location_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(small_state(1).to_bytes())
    message = f"error: {path}: state location is not a directory (hint: --state takes the directory that holds state.json)"
    with pytest.raises(StateError) as reading:
        JsonBackend(str(path)).read()
    with pytest.raises(StateError) as locking, JsonBackend(str(path)).lock(operation="apply", actor=None, timeout=0):
        pytest.fail("a file is no state directory")
    assert reading.value.render() == locking.value.render() == message


def test_an_unreadable_state_points_at_its_backup(location: str) -> None:
    backend = JsonBackend(location)
    commit(backend, small_state(1), None)
    commit(backend, small_state(2), (LINEAGE, 1))
    Path(location, "state.json").write_bytes(b"{")
    with pytest.raises(StateError) as caught:
        backend.read("acme-mssp")
    assert caught.value.render() == (
        f"error: {location}/state.json: state is not valid JSON (line 1 column 2) "
        f"(hint: fix it by hand or restore {location}/state.json.backup; accessplan never overwrites a state it cannot read)"
    )


def test_a_state_edited_in_place_since_it_was_read_is_checked_again(location: str) -> None:
    backend = JsonBackend(location)
    commit(backend, small_state(1), None)
    assert backend.read("acme-mssp") is not None
    edited = small_state(5).to_bytes()
    with open(Path(location, "state.json"), "r+b") as fh:  # same inode, new content
        fh.write(edited)
    with pytest.raises(StateError) as caught:
        commit(backend, small_state(2), (LINEAGE, 1))
    assert caught.value.message == f"state moved on: expected lineage {LINEAGE} serial 1, found lineage {LINEAGE} serial 5"


def test_a_commit_must_keep_the_lineage_and_raise_the_serial(location: str) -> None:
    backend = JsonBackend(location)
    commit(backend, small_state(3), None)
    for bad in (small_state(3), State(str(uuid.uuid4()), 4, "acme-mssp", {})):
        with pytest.raises(ValueError):
            commit(backend, bad, (LINEAGE, 3))


def test_audit_and_outbox_lines_are_compact_sorted_json(location: str) -> None:
    backend = JsonBackend(location)
    with backend.lock(operation="apply", actor=None, timeout=0):
        backend.commit(small_state(1), expected=None, audit={"time": "t", "actor": None, "changes": [{"b": 1, "a": 2}]}, notifications=[{"user": "u", "event": "access_granted"}])
    assert Path(location, "audit.jsonl").read_bytes() == b'{"actor":null,"changes":[{"a":2,"b":1}],"time":"t"}\n'
    assert Path(location, "outbox.jsonl").read_bytes() == b'{"event":"access_granted","user":"u"}\n'


def test_a_damaged_log_line_is_an_error_but_an_unfinished_last_line_is_not(location: str) -> None:
    os.makedirs(location)
    Path(location, "audit.jsonl").write_bytes(b'{"serial_after":1}\n{"serial_af')
    assert JsonBackend(location).audit_log() == [{"serial_after": 1}]
    Path(location, "outbox.jsonl").write_bytes(b'{"serial":1}\n[1]\n{"serial":2}\n')
    with pytest.raises(StateError) as caught:
        JsonBackend(location).outbox()
    assert caught.value.render() == f"error: {location}/outbox.jsonl:2: not a JSON object (hint: fix or remove that line by hand)"


def test_short_writes_are_completed(location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstate, "_write", lambda fd, data: os.write(fd, data[:7]))
    backend = JsonBackend(location)
    commit(backend, small_state(1), None, [{"serial": 1}])
    commit(backend, small_state(2), (LINEAGE, 1), [{"serial": 2}])
    assert Path(location, "state.json").read_bytes() == small_state(2).to_bytes()
    assert backend.outbox() == [{"serial": 1}, {"serial": 2}]


# -- failing disks -----------------------------------------------------------


class Faults:
    """Counts calls to the backend's I/O hooks and makes chosen ones fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.failing: dict[int, int] = {}  # call number -> errno
        self.fail_from: tuple[int, str, int] | None = None  # (call number, hook, errno): that hook fails from then on
        for name in HOOKS:
            monkeypatch.setattr(jsonstate, name, self._wrap(name, getattr(jsonstate, name)))

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def hook(*args: Any) -> Any:
            number = len(self.calls)
            self.calls.append(name)
            code = self.failing.get(number)
            if self.fail_from and number >= self.fail_from[0] and name == self.fail_from[1]:
                code = self.fail_from[2]
            if code is not None:
                if name == "_write":  # a disk that fills up mid-write still writes a little
                    os.write(args[0], bytes(args[1][:5]))
                raise OSError(code, os.strerror(code))
            return real(*args)

        return hook


@pytest.fixture()
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    return Faults(monkeypatch)


def seed(location: str) -> tuple[JsonBackend, bytes]:
    backend = JsonBackend(location)
    commit(backend, small_state(1), None, [{"serial": 1}])
    return backend, Path(location, "state.json").read_bytes()


def faulty_commit(backend: JsonBackend, faults: Faults, arm: Callable[[int], None]) -> None:
    """The second commit, with faults armed relative to its first I/O call."""
    with backend.lock(operation="apply", actor="alice@acme.example", timeout=0):
        arm(len(faults.calls))
        backend.commit(small_state(2, name="Globex Corp"), expected=(LINEAGE, 1), audit={"serial_after": 2}, notifications=[{"serial": 2}])


#: The I/O calls of a commit, in order (journal, backup, state, audit, outbox).
COMMIT_CALLS = [
    "_write", "_fsync", "_replace", "_fsync_dir",  # journal
    "_link", "_replace", "_fsync_dir",  # backup
    "_write", "_fsync", "_replace", "_fsync_dir",  # state
    "_write", "_fsync",  # audit
    "_write", "_fsync",  # outbox
]  # fmt: skip


def test_a_commit_does_its_io_in_the_documented_order(location: str, faults: Faults) -> None:
    backend, _ = seed(location)
    starts: list[int] = []
    faulty_commit(backend, faults, starts.append)
    assert faults.calls[starts[0] :] == COMMIT_CALLS


ENOSPC, EIO = "No space left on device", "Input/output error"


@pytest.mark.parametrize(
    ("step", "code", "what"),
    [
        (0, errno.ENOSPC, f"{ENOSPC} (writing {{d}}/state.json.journal)"),
        (1, errno.EIO, f"{EIO} (syncing {{d}}/state.json.journal)"),
        (2, errno.ENOSPC, f"{ENOSPC} (replacing {{d}}/state.json.journal)"),
        (3, errno.EIO, f"{EIO} (syncing directory {{d}})"),
        (5, errno.EIO, f"{EIO} (replacing {{d}}/state.json.backup)"),
        (6, errno.EIO, f"{EIO} (syncing directory {{d}})"),
        (7, errno.ENOSPC, f"{ENOSPC} (writing {{d}}/state.json)"),
        (8, errno.EIO, f"{EIO} (syncing {{d}}/state.json)"),
        (9, errno.ENOSPC, f"{ENOSPC} (replacing {{d}}/state.json)"),
        (10, errno.EIO, f"{EIO} (syncing directory {{d}})"),
    ],
)
def test_a_failure_before_the_state_is_durable_leaves_the_old_state(location: str, faults: Faults, step: int, code: int, what: str) -> None:
    backend, old = seed(location)
    with pytest.raises(StateError) as caught:
        faulty_commit(backend, faults, lambda start: faults.failing.update({start + step: code}))
    assert caught.value.render() == (
        f"error: could not write state: {what.format(d=location)} (hint: the state is unchanged; free space or fix the disk, then apply again)"
    )
    assert Path(location, "state.json").read_bytes() == old
    backup = ["state.json.backup"] if step >= 6 else []  # from step 6 on its rename had happened
    assert files(location) == ["audit.jsonl", "outbox.jsonl", "state.json", *backup, "state.lock"]
    assert backend.audit_log() == [{"serial_after": 1}] and backend.outbox() == [{"serial": 1}]
    faulty_commit(backend, faults, lambda _: None)  # nothing half-done stands in the way
    assert backend.read("acme-mssp") == small_state(2, name="Globex Corp")
    assert backend.audit_log() == [{"serial_after": 1}, {"serial_after": 2}]


def test_when_putting_the_old_state_back_fails_too_the_user_is_told(location: str, faults: Faults) -> None:
    backend, _ = seed(location)
    with pytest.raises(StateError) as caught:
        faulty_commit(backend, faults, lambda start: setattr(faults, "fail_from", (start + 10, "_fsync_dir", errno.EIO)))
    assert caught.value.render() == (
        f"error: could not write state: {EIO} (syncing directory {location}) "
        f"(hint: putting the previous state back failed too ({EIO} (syncing directory {location})): "
        f"compare {location}/state.json with {location}/state.json.backup before applying again)"
    )


def test_a_file_system_without_hard_links_gets_a_copied_backup(location: str, faults: Faults) -> None:
    backend, old = seed(location)
    faulty_commit(backend, faults, lambda start: faults.failing.update({start + 4: errno.EPERM}))
    assert Path(location, "state.json.backup").read_bytes() == old
    assert backend.read("acme-mssp") == small_state(2, name="Globex Corp")
    assert files(location) == ["audit.jsonl", "outbox.jsonl", "state.json", "state.json.backup", "state.lock"]


@pytest.mark.parametrize(
    ("step", "code", "what"),
    [
        (11, errno.ENOSPC, f"{ENOSPC} (appending to {{d}}/audit.jsonl)"),
        (12, errno.EIO, f"{EIO} (appending to {{d}}/audit.jsonl)"),
        (13, errno.ENOSPC, f"{ENOSPC} (appending to {{d}}/outbox.jsonl)"),
        (14, errno.EIO, f"{EIO} (appending to {{d}}/outbox.jsonl)"),
    ],
)
def test_a_failure_after_the_state_is_saved_is_finished_by_the_next_writer(location: str, faults: Faults, step: int, code: int, what: str) -> None:
    backend, _ = seed(location)
    with pytest.raises(StateError) as caught:
        faulty_commit(backend, faults, lambda start: faults.failing.update({start + step: code}))
    assert caught.value.render() == (
        f"error: state saved as serial 2, but its audit record and notifications are pending: {what.format(d=location)} "
        "(hint: free space or fix the disk; the next apply or customer action writes them)"
    )
    assert backend.read("acme-mssp") == small_state(2, name="Globex Corp")
    assert "state.json.journal" in files(location)
    with JsonBackend(location).lock(operation="apply", actor=None, timeout=0):
        pass
    assert backend.audit_log() == [{"serial_after": 1}, {"serial_after": 2}]
    assert backend.outbox() == [{"serial": 1}, {"serial": 2}]
    assert "state.json.journal" not in files(location)


# -- the journal -------------------------------------------------------------


def journal(location: str, serial: int, outbox: list[str]) -> None:
    Path(location, "state.json.journal").write_bytes(
        orjson.dumps({"audit": f'{{"serial_after":{serial}}}\n', "lineage": LINEAGE, "outbox": outbox, "serial": serial})
    )


def test_a_journal_of_a_write_that_happened_completes_the_logs(location: str) -> None:
    backend, _ = seed(location)
    commit(backend, small_state(2), (LINEAGE, 1), [{"serial": 2, "user": "a"}])
    Path(location, "audit.jsonl").write_bytes(b'{"serial_after":1}\n{"serial_aft')  # cut short by a crash
    Path(location, "outbox.jsonl").write_bytes(b'{"serial":1}\n{"serial":2,"user":"a"}\n')  # one of two written
    journal(location, 2, ['{"serial":2,"user":"a"}\n', '{"serial":2,"user":"b"}\n'])
    with backend.lock(operation="apply", actor=None, timeout=0):
        pass
    assert backend.audit_log() == [{"serial_after": 1}, {"serial_after": 2}]
    assert backend.outbox() == [{"serial": 1}, {"serial": 2, "user": "a"}, {"serial": 2, "user": "b"}]
    assert files(location) == ["audit.jsonl", "outbox.jsonl", "state.json", "state.json.backup", "state.lock"]


def test_a_journal_of_a_write_that_never_happened_is_dropped(location: str) -> None:
    backend, _ = seed(location)
    journal(location, 2, ['{"serial":2}\n'])
    with backend.lock(operation="apply", actor=None, timeout=0):
        pass
    assert backend.audit_log() == [{"serial_after": 1}] and backend.outbox() == [{"serial": 1}]
    assert "state.json.journal" not in files(location)


def test_an_unreadable_journal_stops_the_next_writer(location: str) -> None:
    backend, _ = seed(location)
    Path(location, "state.json.journal").write_bytes(b"{")
    with pytest.raises(StateError) as caught, backend.lock(operation="apply", actor=None, timeout=0):
        pytest.fail("recovery must refuse first")
    assert caught.value.render() == (
        f"error: {location}/state.json.journal: unreadable journal of an interrupted write (hint: compare audit.jsonl with state.json, then delete the journal)"
    )
    os.unlink(Path(location, "state.json.journal"))
    with JsonBackend(location).lock(operation="apply", actor=None, timeout=0):  # the refused lock was released
        pass
