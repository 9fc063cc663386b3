"""A throwaway PostgreSQL cluster for the tests of the PostgreSQL state backend.

``initdb`` into a fresh temporary directory, ``pg_ctl start`` on a free port
of 127.0.0.1 (its unix socket in that directory, so it never meets a system
server), torn down with the test session. Nothing is mocked: the tests talk to
a real server through psycopg, as accessplan does in production.

PostgreSQL refuses to run as root; as root the cluster runs as Debian's
``postgres`` system user. The server binaries come from Debian's
``postgresql`` package, which ``make test`` installs when missing
(``scripts/ensure-debs.sh``); without them the tests fail, they are not skipped.

Test modules load it with ``pytest_plugins = ["pg_fixture"]``. Should one
import the fixtures instead, pytest keeps one fixture definition per module:
the cluster itself is shared through a reference count, so it still starts
only once per session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from accessplan.pglocation import parse_location

_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # a throwaway cluster: speed over durability (clients are killed, never the server)
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
}


def _bindir() -> str:
    """The newest installed PostgreSQL server's ``bin`` directory (or ``$ACCESSPLAN_PG_BIN``)."""
    override = os.environ.get("ACCESSPLAN_PG_BIN")
    candidates = [override] if override else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)
    for bindir in reversed(candidates):
        if all(os.access(os.path.join(bindir, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under /usr/lib/postgresql/*/bin: "
        "run `make test`, which installs Debian's postgresql package, or `apt-get install postgresql` "
        "(or point ACCESSPLAN_PG_BIN at a bin directory)",
        pytrace=False,
    )


def _version(path: str) -> tuple[int, ...]:
    name = os.path.basename(os.path.dirname(path))
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running server; :meth:`database` hands out fresh databases."""

    root: str
    port: int
    bindir: str
    run_as: str | None
    watchdog: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        data = os.path.join(self.root, "data")
        done = self._run(os.path.join(self.bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--locale=C", "--no-sync", "--no-instructions")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
        for _ in range(3):  # the free port may be taken between choosing and binding it
            self.port = _free_port()
            options = " ".join(f"-c {k}={v}" for k, v in _SETTINGS.items())
            done = self._run(os.path.join(self.bindir, "pg_ctl"), "-D", data, "-l", os.path.join(self.root, "server.log"), "-w", "-t", "60",
                             "-o", f"-p {self.port} -k {self.root} {options}", "start")
            if done.returncode == 0:
                self._watch()
                return
        with open(os.path.join(self.root, "server.log"), encoding="utf-8", errors="replace") as fh:
            log = fh.read()[-2000:]
        raise RuntimeError(f"pg_ctl start failed 3 times: {done.stderr.strip()}\n{log}")

    def _watch(self) -> None:
        """Stop the server even if this test process is killed before its teardown runs."""
        pg_ctl = os.path.join(self.bindir, "pg_ctl")
        stop = f"{pg_ctl} -D {self.root}/data -m immediate stop"
        if self.run_as:
            stop = f"runuser -u {self.run_as} -- {stop}"
        script = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {self.root}"
        self.watchdog = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", os.path.join(self.root, "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class _Shared:
    cluster: Cluster | None = None
    users: int = 0


_shared = _Shared()


def _acquire() -> Cluster:
    if _shared.cluster is None:
        bindir = _bindir()
        run_as = None
        root = tempfile.mkdtemp(prefix="accessplan-pg-")
        if os.geteuid() == 0:  # postgres refuses root: run it as Debian's postgres user
            run_as = "postgres"
            account = pwd.getpwnam(run_as)
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = Cluster(root=root, port=0, bindir=bindir, run_as=run_as)
        try:
            cluster.start()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        _shared.cluster = cluster
    _shared.users += 1
    return _shared.cluster


def _release() -> None:
    _shared.users -= 1
    cluster = _shared.cluster
    if _shared.users == 0 and cluster is not None:
        _shared.cluster = None
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    cluster = _acquire()
    try:
        yield cluster
    finally:
        _release()


@pytest.fixture(scope="session")
def pg_database(pg_cluster: Cluster) -> str:
    """One database for the session's tests; each test works in a schema of its own."""
    return pg_cluster.database()


@pytest.fixture()
def pg_url(pg_database: str) -> str:
    """A state URL of the test's own, empty schema (``?schema=t_...``): cheaper than a database per test."""
    return f"{pg_database}?schema=t_{uuid.uuid4().hex[:12]}"


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain connection to a state URL's database, its search_path set to the URL's schema."""
    where = parse_location(url)
    return psycopg.connect(where.conninfo, autocommit=True, options=f"-csearch_path={where.schema}")


def sql(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run one statement beside the backend; table names resolve in the URL's schema."""
    with connect(url) as conn:
        cur = conn.execute(query.encode(), args)
        return cur.fetchall() if cur.description else []
