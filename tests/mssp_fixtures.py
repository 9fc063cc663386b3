"""A small MSSP for the lifecycle tests: customer approval, revocation, POCs, authority.

Partner ``acme`` has two Partner Platform Administrators (alice, carol), an
analyst (bob), a product administrator of InsightIDR at globex (dave: his
assignment there holds InsightIDR with the InsightIDR Admin role) and erin, a
platform admin of globex only. Globex licenses InsightIDR and InsightVM, keeps
explicit log rules, has its own administrator nadia and a group with bob.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from plan_helpers import Cli, write_manifest

T0 = "2026-11-23T09:00:00Z"
T1 = "2026-11-23T10:00:00Z"
T2 = "2026-11-23T11:00:00Z"

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
    - {email: dave@acme.example, first_name: Dave, last_name: Li, timezone: UTC}
    - {email: erin@acme.example, first_name: Erin, last_name: Shaw, timezone: UTC}
policy:
  min_platform_admins_per_customer: 1
"""

GLOBEX = """\
customers:
  - id: globex
    name: Globex
    region: us
    products: [InsightIDR, InsightVM]
    data_access: {default_all_logs: false}
    log_sets:
      - {name: Firewall, logs: [fw-1, fw-2]}
    users:
      - {email: nadia@globex.example, first_name: Nadia, last_name: Petrova, timezone: UTC, platform_admin: true}
    groups:
      - name: SOC
        products: [InsightIDR]
        roles: [InsightIDR Viewer]
        members: [bob@acme.example]
"""

GRANTS = """\
grants:
  - users: [alice@acme.example]
    customers: "*"
    platform_admin: true
  - users: [bob@acme.example]
    customers: [globex]
    products: [InsightIDR]
    roles: [InsightIDR Viewer]
    logs: {select: [Firewall]}
  - users: [dave@acme.example]
    customers: [globex]
    products: [InsightIDR]
    roles: [InsightIDR Admin]
  - users: [erin@acme.example]
    customers: [globex]
    platform_admin: true
"""

BOB = "assignment/globex/bob@acme.example"
ALICE = "assignment/globex/alice@acme.example"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(capsys, tmp_path / "state")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "m", PARTNER, GLOBEX, GRANTS)


def apply_ok(cli: Cli, manifest: Path, *extra: str, now: str = T0) -> None:
    result = cli("apply", str(manifest), "--auto-approve", "--allow-escalation", *extra, now=now)
    assert result.code == 0, result.err


def bootstrap(cli: Cli, manifest: Path) -> None:
    """Apply, let globex approve, apply what was deferred: everything live, state serial 3."""
    apply_ok(cli, manifest, "--as", "alice@acme.example")
    assert cli("customer", "approve", "globex", "--as", "nadia@globex.example").code == 0
    apply_ok(cli, manifest, "--as", "alice@acme.example")


def plan_json(cli: Cli, manifest: Path, now: str = T0) -> dict[str, Any]:
    result = cli("plan", str(manifest), "--format", "json", now=now)
    assert result.code == 0, result.err
    return result.json()  # type: ignore[no-any-return]


def changes(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["action"], c["address"], c["reason"]) for c in plan["changes"]]


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
