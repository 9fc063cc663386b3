"""Helpers for the plan/apply tests: small manifests, the CLI in-process, state edits.

Customer approval arrives with the lifecycle issue (``customer approve``); until
then :func:`set_relationship` plays the customer's administrator by editing
the status in state through the backend, as that command will.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from accessplan.cli import main
from accessplan.state import open_backend

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from trial_common import family  # noqa: E402

T0 = "2026-11-23T09:00:00Z"

PARTNER = """\
version: 1
partner:
  id: acme
  name: Acme Security
  region: us
  products: [InsightIDR]
  users:
    - {email: alice@acme.example, first_name: Alice, last_name: Ng, timezone: UTC, platform_admin: true}
    - {email: carol@acme.example, first_name: Carol, last_name: Diaz, timezone: UTC, platform_admin: true}
    - {email: bob@acme.example, first_name: Bob, last_name: Okafor, timezone: UTC}
"""

GLOBEX = """\
customers:
  - id: globex
    name: Globex
    region: us
    products: [InsightIDR]
    groups:
      - name: SOC
        products: [InsightIDR]
        roles: [InsightIDR Viewer]
        members: [bob@acme.example]
"""

BOB_24H = """\
grants:
  - users: [bob@acme.example]
    customers: [globex]
    duration: 24h
    products: [InsightIDR]
    roles: [InsightIDR Viewer]
"""


def write_manifest(root: Path, *parts: str) -> Path:
    """A one-file manifest made of ``parts`` (YAML snippets with distinct top-level keys)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "manifest.yaml"
    path.write_text("".join(textwrap.dedent(p) for p in parts), encoding="utf-8")
    return root


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)


class Cli:
    """Runs ``accessplan`` in-process with a pinned clock and a state directory."""

    def __init__(self, capsys: pytest.CaptureFixture[str], state: Path) -> None:
        self.capsys = capsys
        self.state = state

    def __call__(self, *args: str, now: str = T0) -> Result:
        self.capsys.readouterr()
        code = main(["--now", now, "--state", str(self.state), *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def state_bytes(self) -> bytes:
        return (self.state / "state.json").read_bytes()

    def resources(self) -> dict[str, Any]:
        return orjson.loads(self.state_bytes())["resources"]  # type: ignore[no-any-return]


def set_relationship(state_dir: Path, relationship: str, *customers: str) -> None:
    """Set customers' relationship in state (what ``customer approve/revoke`` will do)."""
    backend = open_backend(str(state_dir))
    with backend.lock(operation="test", actor="test", timeout=0):
        state = backend.read()
        assert state is not None
        before = (state.lineage, state.serial)
        for cid in customers:
            state.resources[f"customer/{cid}"]["status"]["relationship"] = relationship
        state.serial += 1
        backend.commit(state, expected=before, audit={"operation": f"test-{relationship}", "customers": list(customers)})


def approve(state_dir: Path, *customers: str) -> None:
    set_relationship(state_dir, "approved", *customers)


def big_manifest(users: int, customers: int, first_name: str) -> str:
    """A manifest of ``users`` partner users granted to ``customers`` POC customers.

    POC customers are approved at creation, so one apply creates everything.
    Variants that differ only in ``first_name`` (the first customer's name)
    plan a single update but make apply write the whole state. The reliability
    trials use the same family (``benchmarks/trial_common.py``).
    """
    return family(users, customers, first_name)


def accessplan_cmd(*args: str, now: str = T0) -> list[str]:
    """The ``accessplan`` command line of this interpreter, for subprocesses."""
    import sys

    return [sys.executable, "-c", "from accessplan.cli import run; run()", "--now", now, *args]
