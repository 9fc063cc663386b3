#!/usr/bin/env python3
"""The cost of a state write on PostgreSQL beside the JSON directory backend.

    python benchmarks/pgstate_bench.py postgresql://USER@HOST:PORT/DBNAME [--sizes 1000,10000,100000] [--runs 3]

For each size (assignments in the state), a first commit, then ``--runs``
rounds of what an apply does under the lock (take the lock, read the state,
commit the next serial), and a lock-free read, on both backends. Each size gets
a schema of its own in the given database (``bench_<size>``, dropped first),
and a temporary state directory. Printed: one Markdown table, best of the runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from backend_conformance import audit, make_state  # noqa: E402  (a state of N assignments)

from accessplan.pglocation import parse_location  # noqa: E402
from accessplan.state import Backend, open_backend  # noqa: E402


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _round(backend: Backend, serial: int, size: int) -> None:
    with backend.lock(operation="apply", actor=None, timeout=0):
        current = backend.read("acme-mssp")
        assert current is not None
        backend.commit(make_state(serial, count=size), expected=(current.lineage, current.serial), audit=audit(serial))


def measure(location: str, size: int, runs: int) -> tuple[float, float, float]:
    backend = open_backend(location)

    def first() -> None:
        with backend.lock(operation="apply", actor=None, timeout=0):
            backend.commit(make_state(1, count=size), expected=None, audit=audit(1))

    first_commit = _timed(first)
    rounds = min(_timed(lambda serial=serial: _round(backend, serial, size)) for serial in range(2, runs + 2))  # type: ignore[misc]
    read = min(_timed(lambda: open_backend(location).read("acme-mssp")) for _ in range(runs))
    return first_commit, rounds, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    where = parse_location(args.url)
    print("| assignments | state | backend | first commit | lock + read + commit | read |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        schema = f"bench_{size}"
        with psycopg.connect(where.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE".encode())
        megabytes = len(make_state(1, count=size).to_bytes()) / 1e6
        join = "&" if "?" in args.url else "?"
        for name, location in (("PostgreSQL", f"{args.url}{join}schema={schema}"), ("JSON", tempfile.mkdtemp(prefix="accessplan-bench-"))):
            first, rounds, read = measure(location, size, args.runs)
            print(f"| {size:,} | {megabytes:.1f} MB | {name} | {first:.3f} s | {rounds:.3f} s | {read:.3f} s |", flush=True)


if __name__ == "__main__":
    main()
