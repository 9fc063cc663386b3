"""``accessplan export``: a manifest that reproduces the state, so that planning it shows no changes."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_helpers import Cli, approve

from accessplan.apply import next_state
from accessplan.desired import desired_resources
from accessplan.errors import StateError
from accessplan.export import export_manifest, export_yaml
from accessplan.loader import load_manifest
from accessplan.plan import Action, make_plan
from accessplan.resolve import resolve
from accessplan.state import State
from accessplan.validate import validate_manifest
from accessplan.yamlwrite import dump

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mssp"
LINEAGE = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(capsys, tmp_path / "state")


def applied_example(cli: Cli, tmp_path: Path) -> Path:
    """examples/mssp applied, its customers approved, applied again: a state with live access everywhere."""
    manifest = tmp_path / "mssp"
    shutil.copytree(EXAMPLE, manifest)
    assert cli("apply", str(manifest), "--auto-approve", "--allow-escalation").code == 0
    approve(cli.state, "globex", "initech", "umbrella", "vandelay")
    assert cli("apply", str(manifest), "--auto-approve", "--allow-escalation").code == 0
    return manifest


def test_the_export_of_the_example_plans_no_changes_and_writes_relative_expiries_as_until(cli: Cli, tmp_path: Path) -> None:
    applied_example(cli, tmp_path)
    out = tmp_path / "exported.yaml"
    result = cli("export", "--out", str(out))
    assert (result.code, result.out) == (0, "")
    assert result.err == f"Exported the state (serial 3) to {out}. Check it with: accessplan plan {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=schemas/accessplan.schema.json\n#\n")
    assert (
        "  - users: [priya.raman@bastionsec.example]\n"
        "    customers: [initech]\n"
        "    platform_admin: true\n"
        '    until: "2026-11-25T09:00:00Z"\n'
    ) in text
    assert cli("validate", str(out)).code == 0
    plan = cli("plan", str(out), "--detailed-exitcode")
    assert plan.code == 0
    assert plan.out.endswith("No changes. The state matches the manifest.\nPlan: 0 to add, 0 to change, 0 to destroy, 0 deferred.\n")
    assert cli("export").out == text


def test_an_expired_assignment_is_not_exported(cli: Cli, tmp_path: Path) -> None:
    manifest = applied_example(cli, tmp_path)
    later = "2026-11-26T09:00:00Z"  # Priya's 48-hour admin grant at Initech has ended
    assert cli("apply", str(manifest), "--auto-approve", now=later).code == 0
    resources = cli.resources()
    assert resources["assignment/initech/priya.raman@bastionsec.example"]["status"]["tombstone"] == "expired"
    exported = cli("export", now=later).out
    assert "customers: [initech]\n    platform_admin: true" not in exported
    (tmp_path / "exported.yaml").write_text(exported, encoding="utf-8")
    assert cli("plan", str(tmp_path / "exported.yaml"), "--detailed-exitcode", now=later).code == 0


def test_export_without_a_state_is_an_error(cli: Cli) -> None:
    result = cli("export")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: there is no state at {cli.state}: nothing to export (hint: give the state with --state DIR)\n"


def state_of(resources: dict[str, dict[str, Any]]) -> State:
    return State(LINEAGE, 3, "acme", {a: {"spec": s, "status": {}} for a, s in resources.items()})


PARTNER = {
    "partner/acme": {"default_all_logs": True, "name": "Acme", "products": ["InsightIDR"], "region": "us"},
    "user/acme/ann@acme.example": {"distribution_list": False, "first_name": "Ann", "last_name": "Lee", "logs": {"restrict": [], "select": []},
                                   "platform_admin": True, "products": [], "roles": [], "timezone": "UTC"},
}


def test_a_custom_role_defined_differently_in_two_accounts_is_refused() -> None:
    role = {"extends": None, "permissions": {"InsightIDR Core": "View Only"}, "product": "InsightIDR"}
    state = state_of({**PARTNER, "role/globex/Tier 1": role, "role/initech/Tier 1": {**role, "permissions": {"InsightIDR Core": "Administer"}}})
    with pytest.raises(StateError) as exc:
        export_manifest(state)
    assert exc.value.render() == (
        "error: custom role 'Tier 1' is defined differently in accounts 'globex' and 'initech' (hint: a manifest defines a custom "
        "role once for every account; the state was edited by hand: fix it, or make it consistent with an apply)"
    )


def test_a_state_without_a_partner_is_refused() -> None:
    with pytest.raises(StateError) as exc:
        export_manifest(State(LINEAGE, 1, None, {}))
    assert exc.value.render() == (
        "error: the state holds no partner; a manifest needs exactly one "
        "(hint: the state was edited by hand: fix it, or make it consistent with an apply)"
    )


AWKWARD = ["yes", "No", "on", "null", "~", "123", "1e3", "0x1F", "2027-01-31", "12:30", "- dash", "a: b", "a #b", "'q'", '"dq"',
           "[x]", "{y}", "*star", "&amp", "!tag", "%pct", "@at", "`tick`", "tab\there", "bell\x07", "bidi\u202eX", "emoji \U0001F600",
           "trailing ", " leading", "", "line\nbreak", "back\\slash", "Tier 1 Analyst"]


def test_the_writer_quotes_whatever_could_be_misread(tmp_path: Path) -> None:
    data = {"version": 1, "partner": {"id": "acme", "name": "Acme", "region": "us", "users": [
        {"email": "ann@acme.example", "first_name": name or "x", "last_name": "L", "timezone": "UTC"} for name in AWKWARD
    ]}, "customers": [{"id": "globex", "name": "Globex", "products": ["InsightIDR"], "labels": {name or "k": name for name in AWKWARD}}]}
    path = tmp_path / "m.yaml"
    path.write_text(dump(data), encoding="utf-8")
    manifest = load_manifest(path)
    assert [u.first_name for u in manifest.partner.users] == [name or "x" for name in AWKWARD]
    assert manifest.customers[0].labels == {name or "k": name for name in AWKWARD}
    assert "first_name: Tier 1 Analyst\n" in path.read_text(encoding="utf-8")


# --- property: export, then plan: no changes, for random states --------------------------------------------------

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
USERS = ("u1@p.example", "u2@p.example", "u3@p.example", "u4@p.example")
CUSTOMERS = ("c1", "c2", "c3")
ROLE_SETS = ([], ["InsightIDR Viewer"], ["Tier 1"], ["InsightIDR Analyst", "Log Search View Only"])
EXPIRIES = ({}, {"duration": "24h"}, {"duration": "3d"}, {"until": "2027-03-31T17:00:00Z"})
LOG_RULES = (None, {"select": ["Firewall"]}, {"select": ["Firewall"], "restrict": ["fw-2"]}, {"select": ["fw-1", "dns"]})


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid manifest over a small universe: c3 may be a POC, c1 and c2 restrict logs."""
    users = [{"email": u, "first_name": "F", "last_name": "L", "timezone": "UTC", "platform_admin": u == USERS[0]} for u in USERS]
    customers = []
    poc = draw(st.booleans())
    for cid in CUSTOMERS:
        c: dict[str, Any] = {"id": cid, "name": draw(st.sampled_from(["One", "Two: the sequel", "yes"])), "region": "us"}
        if cid == "c3" and poc:
            c["poc"] = {"products": ["InsightIDR"], "first_user": USERS[0], "expires": "2027-06-30"}
        else:
            c["products"] = draw(st.sampled_from([["InsightIDR"], ["InsightIDR", "InsightVM"]]))
            c["labels"] = draw(st.sampled_from([{}, {"tier": "gold"}]))
            c["protect"] = draw(st.booleans())
            c["data_access"] = {"default_all_logs": False}
            c["log_sets"] = [{"name": "Firewall", "logs": draw(st.sampled_from([["fw-1", "fw-2"], ["fw-1", "fw-2", "fw-3"]]))}]
            c["logs"] = ["dns"]
        customers.append(c)
    grants = []
    reach: dict[str, list[str]] = {cid: [] for cid in CUSTOMERS}
    for user in USERS:
        targets = draw(st.lists(st.sampled_from(CUSTOMERS), unique=True).map(sorted))
        if user == USERS[0] and poc:
            targets = [t for t in targets if t != "c3"]  # the POC's first user is its permanent admin already
        if not targets:
            continue
        grant: dict[str, Any] = {"users": [user], "customers": targets}
        if draw(st.booleans()):
            grant["platform_admin"] = True
        grant.update(draw(st.sampled_from(EXPIRIES)))
        roles = draw(st.sampled_from(ROLE_SETS))
        if roles:
            grant["products"], grant["roles"] = ["InsightIDR"], roles
        rules = draw(st.sampled_from(LOG_RULES))
        if rules and not (poc and "c3" in targets):
            grant["logs"] = rules
        grants.append(grant)
        for t in targets:
            reach[t].append(user)
    for c in customers:
        members = draw(st.lists(st.sampled_from(reach[c["id"]]), unique=True).map(sorted)) if reach[c["id"]] else []
        if members and "poc" not in c:
            c["groups"] = [{"name": "SOC", "products": ["InsightIDR"], "roles": ["Tier 1"], "members": members,
                            "logs": {"select": ["Firewall"], "restrict": ["fw-2"]}}]
    roles = [{"name": "Tier 1", "product": "InsightIDR", "extends": "InsightIDR Viewer", "permissions": {"Collector": "View Only"}}]
    return {"version": 1, "partner": {"id": "acme", "name": "Acme", "region": "us", "products": ["InsightIDR"], "users": users},
            "roles": roles, "customers": customers, "grants": grants}


def _desired(path: Path, now: datetime) -> dict[str, Any]:
    manifest = load_manifest(path)
    resolved = resolve(manifest, now)
    errors = [d.render() for d in validate_manifest(manifest, resolved, now) if d.severity == "error"]
    assert errors == []
    return desired_resources(manifest, resolved, now)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=manifests(), statuses=st.lists(st.sampled_from(["approved", "approved", "pending", "revoked"]), min_size=3, max_size=3),
       hours=st.integers(1, 20))
def test_export_then_plan_has_no_changes_for_random_states(tmp_path: Path, doc: dict[str, Any], statuses: list[str], hours: int) -> None:
    source = tmp_path / "source.yaml"
    source.write_text(dump(doc), encoding="utf-8")
    desired = _desired(source, NOW)
    state = next_state(make_plan(desired, None, NOW, escalations=False), None, NOW, None, None)
    for cid, status in zip(CUSTOMERS, statuses, strict=True):
        if state.resources[f"customer/{cid}"]["status"]["relationship"] == "pending" or status != "pending":
            state.resources[f"customer/{cid}"]["status"]["relationship"] = status
    later = NOW + timedelta(hours=hours)
    state = next_state(make_plan(desired, state, later, escalations=False), state, later, None, None)
    exported = tmp_path / "exported.yaml"
    exported.write_text(export_yaml(state, "st"), encoding="utf-8")
    plan = make_plan(_desired(exported, later), state, later)
    assert [(c.address, c.action.value) for c in plan.changes if c.action is not Action.DEFER] == []
    assert plan.escalations == () and plan.impact == ()
    again = State.from_bytes(orjson.dumps({"format_version": 1, "lineage": LINEAGE, "partner": "acme", "resources": state.resources,
                                           "serial": 1}), "st")
    assert export_yaml(again, "st").split("\n", 6)[-1] == exported.read_text(encoding="utf-8").split("\n", 6)[-1]
