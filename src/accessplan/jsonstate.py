"""The JSON state backend: a directory that never holds a broken state.

Files
-----
A state directory (``.accessplan/`` beside the manifest, or ``--state DIR``) holds:

``state.json``
    The state document, keys sorted, indented by two: equal states are equal bytes.
``state.json.backup``
    The state as it was before the last write.
``audit.jsonl``
    One compact JSON object per line, one line per apply or customer-side action.
``outbox.jsonl``
    One line per notification owed to a customer.
``state.lock`` and ``state.lock.info``
    The lock every writer takes (an ``flock`` on ``state.lock``, never on the
    state file, which each write replaces) and who holds it: actor, pid, host,
    operation and since when, for the message another writer gets.
``state.json.journal``
    Present only while a write is under way: the audit and outbox lines that
    belong to the state being written.

Why a crash cannot break it
---------------------------
Every file is written whole under a temporary name in the same directory
(``.state.json.tmp-<pid>-<random>``), flushed to disk with ``fsync``, then
renamed over its target with ``os.replace`` and made durable with an ``fsync``
of the directory. A rename within one directory is atomic: a reader, or a
process that starts after a crash, sees the old file or the new one, never a
mix. A commit runs in this order, under the lock:

1. check that the stored ``(lineage, serial)`` is the one the plan was made
   against (else nothing is written);
2. write the journal (the audit and outbox lines of this commit);
3. make the backup: a hard link to the current ``state.json`` renamed to
   ``state.json.backup`` (a full copy where links are not supported);
4. replace ``state.json`` -- the single moment the commit happens;
5. append the audit line and the outbox lines, each with ``O_APPEND`` and
   ``fsync``, then remove the journal.

Killed before step 4, the state is the old one; killed after it, the new one.
The next writer, once it holds the lock, removes temporary files a killed
writer left behind and finishes its journal: if ``state.json`` carries the
journal's serial, the lines it is missing are appended (an audit line cut short
is cut off first); if not, the journal is dropped. So the audit log and the
outbox record exactly the commits that happened. The lock is an ``flock``: the
kernel releases it when its holder dies, so no stale lock survives a crash. A
failed write (disk full, I/O error) removes its temporary file and leaves the
old state in place; if only the final directory ``fsync`` fails, the old state
is put back before the error is reported.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from typing import Any

import orjson

from accessplan.errors import StateError
from accessplan.state import UNREADABLE_HINT, State, check_partner

STATE, BACKUP, JOURNAL = "state.json", "state.json.backup", "state.json.journal"
AUDIT, OUTBOX, LOCK, LOCK_INFO = "audit.jsonl", "outbox.jsonl", "state.lock", "state.lock.info"
_TEMPORARY = re.compile(r"^\.(?:state\.json(?:\.backup|\.journal)?|state\.lock\.info)\.tmp-\d+-[0-9a-f]+$")
_LOCK_HINT = "wait for it to finish, or retry with --lock-timeout SECONDS"
_HOLDER_NOTE_WAIT = 0.5  # seconds a loser waits for the holder's note (who, since when)


# Fault-injection points: tests replace these to make a write, an fsync, a
# rename, a link or a directory fsync fail as a full or failing disk would.
def _write(fd: int, data: memoryview) -> int:
    return os.write(fd, data)


def _fsync(fd: int) -> None:
    os.fsync(fd)


def _replace(src: str, dst: str) -> None:
    os.replace(src, dst)


def _link(src: str, dst: str) -> None:
    os.link(src, dst)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot sync a directory at all; that is no failed write.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


class _IoFailure(Exception):
    """An OSError with what was being done to which file.

    ``replaced`` names the file whose rename already happened when only the
    directory fsync after it failed: that file may or may not survive a crash.
    """

    def __init__(self, action: str, path: str, error: OSError, *, replaced: str | None = None) -> None:
        super().__init__(action, path, error)
        self.action, self.path, self.replaced = action, path, replaced
        self.reason = error.strerror or str(error)

    def describe(self) -> str:
        return f"{self.reason} ({self.action} {self.path})"


@contextmanager
def _doing(action: str, path: str, *, replaced: str | None = None) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _IoFailure(action, path, exc, replaced=replaced) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_write(fd, view) :]


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _utc(now: datetime | None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class JsonBackend:
    """State kept in a directory of files; see the module documentation."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._held = 0
        # (file identity, (lineage, serial)) of the state.json last read or
        # written here: lets commit skip re-parsing a large state it already knows.
        self._known: tuple[tuple[int, ...], tuple[str, int]] | None = None

    def _path(self, name: str) -> str:
        return os.path.join(self.location, name)

    # -- reading -----------------------------------------------------------

    def _read_bytes(self, name: str) -> bytes | None:
        found = self._read_with_identity(name)
        return None if found is None else found[0]

    def _read_with_identity(self, name: str) -> tuple[bytes, tuple[int, ...]] | None:
        path = self._path(name)
        try:
            with open(path, "rb") as fh:
                return fh.read(), _identity(os.fstat(fh.fileno()))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise _not_a_directory(self.location) from None
        except OSError as exc:
            raise StateError(f"could not read state: {exc.strerror} ({path})") from None

    def _parse(self, data: bytes) -> State:
        try:
            return State.from_bytes(data, self._path(STATE))
        except StateError as exc:
            if exc.hint == UNREADABLE_HINT and os.path.exists(self._path(BACKUP)):
                exc.hint = f"fix it by hand or restore {self._path(BACKUP)}; accessplan never overwrites a state it cannot read"
            raise

    def read(self, partner: str | None = None) -> State | None:
        found = self._read_with_identity(STATE)
        if found is None:
            return None
        state = self._parse(found[0])
        self._known = (found[1], (state.lineage, state.serial))
        check_partner(state, partner, self._path(STATE))
        return state

    def _current_key(self) -> tuple[str, int] | None:
        """The stored ``(lineage, serial)``; parsed again only if the file changed since we saw it."""
        try:
            identity = _identity(os.stat(self._path(STATE)))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"could not read state: {exc.strerror} ({self._path(STATE)})") from None
        if self._known is not None and self._known[0] == identity:
            return self._known[1]
        found = self._read_with_identity(STATE)
        if found is None:
            return None
        state = self._parse(found[0])
        self._known = (found[1], (state.lineage, state.serial))
        return self._known[1]

    def _read_jsonl(self, name: str) -> list[dict[str, Any]]:
        data = self._read_bytes(name)
        if not data:
            return []
        lines = data.split(b"\n")
        records: list[dict[str, Any]] = []
        # The last element is b"" after a final newline, or a line still being
        # written (or cut short by a crash, which the next writer removes).
        for number, line in enumerate(lines[:-1], start=1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                raise StateError(f"{self._path(name)}:{number}: not a JSON object", "fix or remove that line by hand")
            records.append(record)
        return records

    def audit_log(self) -> list[dict[str, Any]]:
        return self._read_jsonl(AUDIT)

    def outbox(self) -> list[dict[str, Any]]:
        return self._read_jsonl(OUTBOX)

    # -- locking -----------------------------------------------------------

    @contextmanager
    def lock(self, *, operation: str, actor: str | None, timeout: float, now: datetime | None = None) -> Iterator[None]:
        if os.path.exists(self.location) and not os.path.isdir(self.location):
            raise _not_a_directory(self.location)
        try:
            os.makedirs(self.location, exist_ok=True)
        except OSError as exc:
            raise StateError(f"could not create the state directory: {exc.strerror} ({self.location})") from None
        from filelock import FileLock, Timeout  # only writers lock: plan and validate never import it

        file_lock = FileLock(self._path(LOCK), timeout=timeout if timeout >= 0 else -1)
        try:
            file_lock.acquire()
        except Timeout:
            raise StateError(self._holder_message(), _LOCK_HINT) from None
        except OSError as exc:
            raise StateError(f"could not lock state: {exc.strerror} ({self._path(LOCK)})") from None
        try:
            holder = {"actor": actor, "host": socket.gethostname(), "operation": operation, "pid": os.getpid(), "since": _utc(now)}
            with suppress(_IoFailure):  # who holds the lock is a courtesy, never a reason to fail
                self._atomic_write(LOCK_INFO, orjson.dumps(holder, option=orjson.OPT_SORT_KEYS), durable=False)
            self._held += 1
            try:
                self._recover()
                yield
            finally:
                self._held -= 1
                with suppress(OSError):
                    os.unlink(self._path(LOCK_INFO))
        finally:
            file_lock.release()

    def _holder_message(self) -> str:
        # A holder writes its note just after taking the lock: a loser that
        # comes in between waits a moment for it rather than name nobody.
        deadline = time.monotonic() + _HOLDER_NOTE_WAIT
        while True:
            try:
                with open(self._path(LOCK_INFO), "rb") as fh:
                    info = orjson.loads(fh.read())
                text = f"{info['actor'] or 'unknown'} (pid {info['pid']} on {info['host']}, operation {info['operation']}, since {info['since']})"
                break
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
                if time.monotonic() >= deadline:
                    text = "another process (it has not said who yet)"
                    break
                time.sleep(0.01)
        return f"state is locked by {text}"

    # -- writing -----------------------------------------------------------

    def _atomic_write(self, name: str, data: bytes, *, durable: bool = True) -> None:
        target = self._path(name)
        tmp = self._path(f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        done = False
        try:
            with _doing("creating", target):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            try:
                with _doing("writing", target):
                    _write_all(fd, data)
                if durable:
                    with _doing("syncing", target):
                        _fsync(fd)
            finally:
                os.close(fd)
            with _doing("replacing", target):
                _replace(tmp, target)
            done = True
        finally:
            if not done:
                with suppress(OSError):
                    os.unlink(tmp)
        if durable:
            with _doing("syncing directory", self.location, replaced=target):
                _fsync_dir(self.location)

    def _copy(self, source: str, target: str) -> None:
        """Make ``target`` a copy of ``source`` atomically: a hard link when possible.

        A link costs nothing however large the state, and is safe because
        state files are only ever replaced, never changed in place.
        """
        tmp = self._path(f".{target}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            _link(self._path(source), tmp)
        except OSError:
            data = self._read_bytes(source)
            if data is None:
                raise _IoFailure("reading", self._path(source), FileNotFoundError(2, "No such file or directory")) from None
            self._atomic_write(target, data)
            return
        try:
            with _doing("replacing", self._path(target)):
                _replace(tmp, self._path(target))
        finally:
            # Also after success: renaming a link onto another link of the same
            # file (a backup made just before a crash) does nothing at all.
            with suppress(OSError):
                os.unlink(tmp)
        with _doing("syncing directory", self.location, replaced=self._path(target)):
            _fsync_dir(self.location)

    def _append(self, name: str, lines: Sequence[bytes], *, resume: bool = False) -> None:
        """Append whole lines; first cut off a line a crash left unfinished.

        ``resume``: some of ``lines`` may already be there (a journal being
        finished), so only those missing at the end of the file are added.
        """
        if not lines:
            return
        path = self._path(name)
        created = not os.path.exists(path)
        with _doing("appending to", path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
            try:
                size = _cut_unfinished_line(fd)
                start = _already_there(fd, size, lines) if resume else 0
                if start < len(lines):
                    _write_all(fd, b"".join(lines[start:]))
                    _fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.location)

    def _drop_journal(self) -> None:
        with suppress(OSError):
            os.unlink(self._path(JOURNAL))

    def _recover(self) -> None:
        """Clean up after a writer that was killed: temporary files, then its journal."""
        try:
            names = os.listdir(self.location)
        except OSError as exc:
            raise StateError(f"could not read the state directory: {exc.strerror} ({self.location})") from None
        for name in names:
            if _TEMPORARY.match(name):
                with suppress(OSError):
                    os.unlink(self._path(name))
        raw = self._read_bytes(JOURNAL)
        if raw is None:
            return
        try:
            journal = orjson.loads(raw)
            key = (journal["lineage"], journal["serial"])
            audit = [journal["audit"].encode()]
            outbox = [line.encode() for line in journal["outbox"]]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise StateError(f"{self._path(JOURNAL)}: unreadable journal of an interrupted write", "compare audit.jsonl with state.json, then delete the journal") from None
        data = self._read_bytes(STATE)
        current = None if data is None else self._parse(data)
        if current is not None and (current.lineage, current.serial) == key:
            try:
                self._append(AUDIT, audit, resume=True)
                self._append(OUTBOX, outbox, resume=True)
            except _IoFailure as exc:
                raise StateError(f"could not finish an interrupted write: {exc.describe()}") from None
        self._drop_journal()

    def commit(
        self,
        new: State,
        *,
        expected: tuple[str, int] | None,
        audit: Mapping[str, Any],
        notifications: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        if not self._held:
            raise RuntimeError("JsonBackend.commit() needs the state lock: call it inside lock()")
        found = self._current_key()
        if found != expected:
            raise StateError(_stale_message(expected, found), "the state changed since it was read; plan again")
        if expected is not None and (new.lineage != expected[0] or new.serial <= expected[1]):
            raise ValueError(f"a commit keeps the lineage and raises the serial (got {new.lineage} {new.serial} after {expected})")
        audit_line = orjson.dumps(dict(audit), option=orjson.OPT_SORT_KEYS) + b"\n"
        outbox_lines = [orjson.dumps(dict(n), option=orjson.OPT_SORT_KEYS) + b"\n" for n in notifications]
        journal = {"audit": audit_line.decode(), "lineage": new.lineage, "outbox": [line.decode() for line in outbox_lines], "serial": new.serial}
        try:
            self._atomic_write(JOURNAL, orjson.dumps(journal, option=orjson.OPT_SORT_KEYS))
            if found is not None:
                self._copy(STATE, BACKUP)
            self._atomic_write(STATE, new.to_bytes())
        except _IoFailure as exc:
            hint = "the state is unchanged; free space or fix the disk, then apply again"
            problem = self._roll_back(had_state=found is not None) if exc.replaced == self._path(STATE) else None
            if problem:
                hint = f"putting the previous state back failed too ({problem}): compare {self._path(STATE)} with {self._path(BACKUP)} before applying again"
            self._drop_journal()
            raise StateError(f"could not write state: {exc.describe()}", hint) from None
        with suppress(OSError):
            self._known = (_identity(os.stat(self._path(STATE))), (new.lineage, new.serial))
        try:
            self._append(AUDIT, [audit_line])
            self._append(OUTBOX, outbox_lines)
        except _IoFailure as exc:
            raise StateError(
                f"state saved as serial {new.serial}, but its audit record and notifications are pending: {exc.describe()}",
                "free space or fix the disk; the next apply or customer action writes them",
            ) from None
        self._drop_journal()

    def _roll_back(self, *, had_state: bool) -> str | None:
        """Put the previous state (now the backup) back after a replace whose durability is unknown.

        Returns what went wrong if that failed too, else None.
        """
        self._known = None
        try:
            if had_state:
                self._copy(BACKUP, STATE)
            else:
                os.unlink(self._path(STATE))
                _fsync_dir(self.location)
        except _IoFailure as exc:
            return exc.describe()
        except OSError as exc:
            return exc.strerror or str(exc)
        return None


def _not_a_directory(location: str) -> StateError:
    return StateError(f"{location}: state location is not a directory", "--state takes the directory that holds state.json")


def _stale_message(expected: tuple[str, int] | None, found: tuple[str, int] | None) -> str:
    def name(key: tuple[str, int] | None) -> str:
        return "no state" if key is None else f"lineage {key[0]} serial {key[1]}"

    return f"state moved on: expected {name(expected)}, found {name(found)}"


def _cut_unfinished_line(fd: int) -> int:
    """Truncate the file after its last newline; return the new size."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - 65536)
        chunk = os.pread(fd, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            end = start + cut + 1
            break
        end = start
    if end != size:
        os.ftruncate(fd, end)
    return end


def _already_there(fd: int, size: int, lines: Sequence[bytes]) -> int:
    """How many of ``lines`` already end the file (a killed writer's partial append)."""
    blob = b"".join(lines)
    tail = os.pread(fd, min(size, len(blob)), size - min(size, len(blob)))
    for count in range(len(lines), 0, -1):
        if tail.endswith(b"".join(lines[:count])):
            return count
    return 0

