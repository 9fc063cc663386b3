"""What the reliability trials share: the command line, a manifest family, state checks, results.

Every trial returns a :class:`Trial`: how many runs, how many failures (with
the first few described, so a report says what broke), how long it took, and
a few measured facts for the summary table.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

NOW = "2026-11-23T09:00:00Z"
MAX_EXAMPLES = 10  # failures described in full; the rest are counted


@dataclass
class Trial:
    """The outcome of one trial."""

    name: str
    runs: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def fail(self, what: str) -> None:
        self.failures += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(what)

    def done(self) -> Trial:
        self.seconds = time.perf_counter() - self.started
        return self

    @property
    def passed(self) -> bool:
        return self.failures == 0 and self.runs > 0


def accessplan_cmd(*args: str, now: str = NOW, prelude: str = "") -> list[str]:
    """``accessplan --now NOW ARGS`` with this interpreter; ``prelude`` runs first (fault injection)."""
    code = f"{prelude}\nfrom accessplan.cli import run; run()" if prelude else "from accessplan.cli import run; run()"
    return [sys.executable, "-c", code, "--now", now, *args]


def run_cli(*args: str, timeout: float = 120, prelude: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(accessplan_cmd(*args, prelude=prelude), capture_output=True, text=True, timeout=timeout, check=False, env=env)


def family(users: int, customers: int, variant: str, admins: tuple[str, ...] = ()) -> str:
    """One of a family of manifests that differ only in the first customer's name.

    ``users`` partner users granted to ``customers`` POC customers (approved at
    creation, so a first apply creates everything); ``admins`` are extra
    partner platform administrators (the writers of the concurrency trial).
    Applying another variant of the family plans one update but rewrites the
    whole state, which is what the crash and lock trials need.
    """
    lines = ["version: 1", "partner:", "  id: acme", "  name: Acme", "  region: us", "  products: [InsightIDR]", "  users:"]
    for i in range(users):
        admin = "true" if i < 2 else "false"
        lines.append(f"    - {{email: u{i:03d}@acme.example, first_name: U, last_name: N, timezone: UTC, platform_admin: {admin}}}")
    for email in admins:
        lines.append(f"    - {{email: {email}, first_name: W, last_name: N, timezone: UTC, platform_admin: true}}")
    lines.append("customers:")
    for c in range(customers):
        name = variant if c == 0 else f"Customer {c}"
        lines.append(f"  - {{id: c{c:03d}, name: \"{name}\", region: us, poc: {{products: [InsightIDR], first_user: u000@acme.example, expires: 2027-12-31}}}}")
    lines += [
        "grants:",
        "  - users: [" + ", ".join(f"u{i:03d}@acme.example" for i in range(users)) + "]",
        '    customers: "*"',
        "    products: [InsightIDR]",
        "    roles: [InsightIDR Viewer]",
    ]
    return "\n".join(lines) + "\n"


def read_state(state: Path) -> dict[str, Any]:
    """The state document; raises (orjson.JSONDecodeError) when it is not valid JSON."""
    doc = orjson.loads((state / "state.json").read_bytes())
    if not isinstance(doc, dict):
        raise ValueError("state.json is not a JSON object")
    return doc


def leftovers(state: Path) -> list[str]:
    """Temporary files and journals a writer left in the state directory."""
    return sorted(p.name for p in state.iterdir() if ".tmp-" in p.name or p.name.endswith(".journal"))


def audit_chain(state: Path) -> list[tuple[int | None, int]]:
    """``(serial_before, serial_after)`` of every audit record, oldest first (applies only)."""
    lines = (state / "audit.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    return [(r.get("serial_before"), r["serial_after"]) for r in records if "serial_after" in r]


def unbroken(chain: list[tuple[int | None, int]]) -> bool:
    """Each record starts where the previous one ended, from no state to the last serial."""
    return chain == [(None, 1)] + [(n, n + 1) for n in range(1, len(chain))]
