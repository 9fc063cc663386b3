"""The plan/apply cycle end to end, through the CLI (SPEC sections 3, 4 and 6)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from plan_helpers import BOB_24H, GLOBEX, PARTNER, Cli, approve, set_relationship, write_manifest

T1 = "2026-11-24T08:00:00Z"  # T0 + 23 h: bob's 24 h grant still runs
T25 = "2026-11-24T10:00:00Z"  # T0 + 25 h: it has expired
T26 = "2026-11-24T11:00:00Z"
BOB = "assignment/globex/bob@acme.example"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(capsys, tmp_path / "state")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "m", PARTNER, GLOBEX, BOB_24H)


def bootstrap(cli: Cli, manifest: Path) -> None:
    """Create everything, approve globex, create what it deferred: state serial 3."""
    assert cli("apply", str(manifest), "--auto-approve", "--allow-escalation").code == 0
    approve(cli.state, "globex")
    assert cli("apply", str(manifest), "--auto-approve", "--allow-escalation").code == 0


def changes(result_json: dict[str, object]) -> list[tuple[str, str, str]]:
    return [(c["action"], c["address"], c["reason"]) for c in result_json["changes"]]  # type: ignore[index,union-attr]


def test_plan_apply_then_plan_again_has_no_changes(cli: Cli, manifest: Path) -> None:
    first = cli("plan", str(manifest), "--detailed-exitcode")
    assert first.code == 2
    assert first.out.splitlines()[1] == f"State: {cli.state}: no state yet: everything will be created"
    assert first.out.splitlines()[-1] == "Plan: 5 to add, 0 to change, 0 to destroy, 2 deferred."
    bootstrap(cli, manifest)
    again = cli("plan", str(manifest), "--detailed-exitcode")
    assert again.code == 0
    assert again.out.splitlines()[-2:] == ["No changes. The state matches the manifest.", "Plan: 0 to add, 0 to change, 0 to destroy, 0 deferred."]


def test_a_new_customer_is_pending_and_what_lies_under_it_deferred(cli: Cli, manifest: Path) -> None:
    plan = cli("plan", str(manifest), "--format", "json").json()
    assert [c for c in changes(plan) if c[0] == "defer"] == [
        ("defer", BOB, "customer_pending"),
        ("defer", "group/globex/SOC", "customer_pending"),
    ]
    applied = cli("apply", str(manifest), "--auto-approve", "--allow-escalation")
    assert applied.out.splitlines()[-1] == "Apply complete: 5 added, 0 changed, 0 destroyed, 2 deferred. State serial 1."
    assert cli.resources()["customer/globex"]["status"] == {"protect": False, "relationship": "pending"}
    assert BOB not in cli.resources()
    only_deferred = cli("plan", str(manifest), "--detailed-exitcode")
    assert only_deferred.code == 0
    assert only_deferred.out.splitlines()[-2:] == [
        "No changes to apply: everything listed is deferred until the customer approves the partner.",
        "Plan: 0 to add, 0 to change, 0 to destroy, 2 deferred.",
    ]
    before = cli.state_bytes()
    nothing = cli("apply", str(manifest), "--auto-approve")
    assert nothing.code == 0
    assert nothing.out.splitlines()[-1] == "Nothing to apply: the state is unchanged."
    assert cli.state_bytes() == before


def test_a_revoked_customer_defers_with_its_reason(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    set_relationship(cli.state, "revoked", "globex")
    write_manifest(manifest, PARTNER, GLOBEX.replace("name: Globex\n", "name: Globex Corp\n"), BOB_24H.replace("Viewer", "Analyst"))
    plan = cli("plan", str(manifest), "--format", "json").json()
    assert changes(plan) == [("update", "customer/globex", "changed"), ("defer", BOB, "customer_revoked")]


def test_a_changed_grant_is_an_update_with_its_field_diff(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("roles: [InsightIDR Viewer]", "roles: [InsightIDR Analyst]\n    platform_admin: false"))
    plan = cli("plan", str(manifest), "--format", "json").json()
    assert len(plan["changes"]) == 1
    change = plan["changes"][0]
    assert {k: change[k] for k in ("action", "address", "reason", "added", "removed", "changed")} == {
        "action": "update",
        "address": BOB,
        "reason": "changed",
        "added": {"roles": ["InsightIDR Analyst"]},
        "removed": {"roles": ["InsightIDR Viewer"]},
        "changed": {},
    }
    assert change["before"]["roles"] == ["InsightIDR Viewer"]
    assert change["after"]["roles"] == ["InsightIDR Analyst"]
    text = cli("plan", str(manifest)).out
    assert f"  ~ update {BOB} (changed)\n      roles: + \"InsightIDR Analyst\"\n      roles: - \"InsightIDR Viewer\"\n" in text


def test_a_saved_plan_applies_exactly_and_keeps_its_provenance(cli: Cli, manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("duration: 24h", "duration: 48h"))
    saved = tmp_path / "change.plan"
    made = cli("plan", str(manifest), "--out", str(saved))
    assert made.code == 0
    assert made.err.splitlines()[-1] == f"Saved the plan to {saved}. Apply exactly this plan with: accessplan apply {saved}"
    write_manifest(manifest, PARTNER, GLOBEX, "grants: []\n")  # the saved plan, not the manifest, is applied
    monkeypatch.setenv("ACCESSPLAN_CHANGE_REF", "c0ffee")
    applied = cli("apply", str(saved), "--as", "Alice@acme.example", now=T1)
    assert applied.code == 0, applied.err
    assert applied.out == "Apply complete: 0 added, 1 changed, 0 destroyed, 0 deferred. State serial 4.\n"
    assert cli.resources()[BOB]["status"] == {
        "change_ref": "c0ffee",
        "expires_at": "2026-11-26T08:00:00Z",  # T1 + 48 h: stamped at apply time
        "granted_at": T1,
        "granted_by": "alice@acme.example",
    }
    audit = [orjson.loads(line) for line in (cli.state / "audit.jsonl").read_bytes().splitlines()]
    assert audit[-1] == {
        "actor": "alice@acme.example",
        "change_ref": "c0ffee",
        "changes": [{"action": "update", "address": BOB, "reason": "changed"}],
        "operation": "apply",
        "plan_hash": orjson.loads(saved.read_bytes())["content_hash"],
        "serial_after": 4,
        "serial_before": 3,
        "time": T1,
    }


def test_a_stale_saved_plan_is_refused_and_the_state_left_byte_identical(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("duration: 24h", "duration: 48h"))
    saved = tmp_path / "old.plan"
    assert cli("plan", str(manifest), "--out", str(saved)).code == 0
    assert cli("apply", str(manifest), "--auto-approve").code == 0  # the state moves on to serial 4
    before = cli.state_bytes()
    refused = cli("apply", str(saved))
    assert refused.code == 1
    assert refused.err == (
        "error: the plan is stale: it was made against state serial 3, the state is now at serial 4 "
        "(hint: the state changed since the plan was made: make a new plan)\n"
    )
    assert cli.state_bytes() == before


def test_a_tampered_saved_plan_is_refused(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("InsightIDR Viewer", "InsightIDR Analyst"))
    saved = tmp_path / "p.json"
    assert cli("plan", str(manifest), "--out", str(saved)).code == 0
    saved.write_bytes(saved.read_bytes().replace(b'"InsightIDR Analyst"', b'"InsightIDR Admin"'))
    before = cli.state_bytes()
    refused = cli("apply", str(saved))
    assert refused.code == 1
    assert refused.err == (
        f"error: {saved}: the saved plan was altered after it was made (its content hash does not match) "
        "(hint: make a new plan with 'accessplan plan PATH --out FILE')\n"
    )
    assert cli.state_bytes() == before


def test_a_saved_plan_is_refused_when_an_expiry_fell_since(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX.replace("name: Globex\n", "name: Globex Corp\n"), BOB_24H)
    saved = tmp_path / "p.plan"
    assert cli("plan", str(manifest), "--out", str(saved), now=T1).code == 0
    before = cli.state_bytes()
    refused = cli("apply", str(saved), now=T25)
    assert refused.code == 1
    assert refused.err == (
        f"error: the plan is out of date: {BOB} expired at 2026-11-24T09:00:00Z, after the plan was made at {T1} "
        "(hint: make a new plan: it removes what expired)\n"
    )
    assert cli.state_bytes() == before


def test_expiry_removes_the_assignment_and_its_memberships_and_does_not_recreate_it(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    assert cli.resources()[BOB]["status"]["expires_at"] == "2026-11-24T09:00:00Z"
    assert cli("plan", str(manifest), "--detailed-exitcode", now=T1).code == 0
    expired = cli("plan", str(manifest), "--format", "json", now=T25).json()
    assert changes(expired) == [("update", "group/globex/SOC", "expired"), ("delete", BOB, "expired")]
    assert expired["changes"][0]["removed"] == {"members": ["bob@acme.example"]}
    assert cli("apply", str(manifest), "--auto-approve", now=T25).code == 0
    tomb = cli.resources()[BOB]
    assert tomb["status"]["tombstone"] == "expired"
    assert tomb["status"]["removed_at"] == T25
    assert cli.resources()["group/globex/SOC"]["spec"]["members"] == []
    later = cli("plan", str(manifest), "--detailed-exitcode", now=T26)
    assert later.code == 0
    assert later.err == (
        f"{manifest}/manifest.yaml:24:15: warning: the grant's 24h access has expired for bob@acme.example at globex "
        "(expired 2026-11-24T09:00:00Z); it is not granted again while the grant is unchanged "
        "(hint: remove the grant, or give it a new duration to grant the access again)\n"
    )
    # Only a new duration grants it again: an escalation (access where there is no live assignment).
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("duration: 24h", "duration: 12h"))
    renewed = cli("plan", str(manifest), "--format", "json", now=T26).json()
    assert changes(renewed) == [("create", BOB, "renewed"), ("update", "group/globex/SOC", "changed")]
    assert [(e["address"], e["kind"], e["detail"]) for e in renewed["escalations"]] == [
        (BOB, "new_access", "access to customer globex again after its assignment expired"),
    ]
    assert cli("apply", str(manifest), "--auto-approve", "--allow-escalation", now=T26).code == 0
    assert cli.resources()[BOB]["status"]["expires_at"] == "2026-11-24T23:00:00Z"
    assert cli("plan", str(manifest), "--detailed-exitcode", now=T26).code == 0


def test_an_escalation_is_refused_then_allowed_with_the_flag(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H.replace("duration: 24h", "duration: 24h\n    platform_admin: true"))
    before = cli.state_bytes()
    refused = cli("apply", str(manifest), "--auto-approve")
    assert refused.code == 1
    assert refused.err == (
        f"error: the plan escalates access: {BOB}: gains platform administrator "
        "(hint: review the escalations listed first in the plan; apply with --allow-escalation to accept them)\n"
    )
    assert cli.state_bytes() == before
    lines = refused.out.splitlines()
    assert lines[4:6] == ["Escalations: 1 to accept with --allow-escalation, 0 deferred", f"  ! {BOB}: gains platform administrator"]
    allowed = cli("apply", str(manifest), "--auto-approve", "--allow-escalation")
    assert allowed.code == 0
    assert cli.resources()[BOB]["spec"]["platform_admin"] is True


def _many(n: int, granted: int) -> tuple[str, str]:
    users = "".join(
        f"    - {{email: u{i:02d}@acme.example, first_name: U, last_name: N, timezone: UTC}}\n" for i in range(n)
    )
    grant = f"grants:\n  - users: [{', '.join(f'u{i:02d}@acme.example' for i in range(granted))}]\n    customers: [initech]\n"
    return PARTNER + users, grant


INITECH = "customers:\n  - {id: initech, name: Initech, region: us, products: [InsightIDR]}\n"


@pytest.mark.parametrize(
    ("total", "deleted", "refused"),
    [(40, 12, False), (40, 13, True), (20, 10, False), (20, 11, True)],
    ids=["30%-exactly", "over-30%", "10-of-20", "11-of-20"],
)
def test_the_safety_threshold(cli: Cli, tmp_path: Path, total: int, deleted: int, refused: bool) -> None:
    partner, grant = _many(total, total)
    m = write_manifest(tmp_path / "m", partner, INITECH, grant)
    assert cli("apply", str(m), "--auto-approve", "--allow-escalation").code == 0
    approve(cli.state, "initech")
    assert cli("apply", str(m), "--auto-approve", "--allow-escalation").code == 0
    write_manifest(m, partner, INITECH, _many(total, total - deleted)[1])
    result = cli("apply", str(m), "--auto-approve")
    if refused:
        assert result.code == 1
        assert result.err == (
            f"error: the plan deletes {deleted} of {total} assignments (more than 30 % and more than 10) "
            "(hint: check the manifest; if the deletions are intended, apply with --force)\n"
        )
        assert cli("apply", str(m), "--auto-approve", "--force").code == 0
    else:
        assert result.code == 0, result.err
    remaining = [a for a in cli.resources() if a.startswith("assignment/")]
    assert len(remaining) == total - deleted


def test_expiry_removals_do_not_count_toward_the_safety_threshold(cli: Cli, tmp_path: Path) -> None:
    partner, grant = _many(12, 12)
    m = write_manifest(tmp_path / "m", partner, INITECH, grant + "    duration: 24h\n")
    assert cli("apply", str(m), "--auto-approve", "--allow-escalation").code == 0
    approve(cli.state, "initech")
    assert cli("apply", str(m), "--auto-approve", "--allow-escalation").code == 0
    result = cli("apply", str(m), "--auto-approve", now=T25)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "Apply complete: 0 added, 0 changed, 12 destroyed, 0 deferred. State serial 4."


def test_a_protected_customer_is_never_removed(cli: Cli, manifest: Path) -> None:
    protected = GLOBEX.replace("    region: us\n", "    region: us\n    protect: true\n")
    write_manifest(manifest, PARTNER, protected, BOB_24H)
    bootstrap(cli, manifest)
    assert cli.resources()["customer/globex"]["status"]["protect"] is True
    write_manifest(manifest, PARTNER, "customers: []\n")
    message = (
        "error: the plan would remove protected customer 'globex' "
        "(hint: state marks it protected: apply 'protect: false' first, then remove it)\n"
    )
    before = cli.state_bytes()
    plan = cli("plan", str(manifest))
    assert (plan.code, plan.out, plan.err) == (1, "", message)
    applied = cli("apply", str(manifest), "--auto-approve", "--allow-customer-removal", "--force")
    assert (applied.code, applied.err) == (1, message)
    assert cli.state_bytes() == before
    # protect: false first, then the removal goes through with its flag.
    write_manifest(manifest, PARTNER, GLOBEX, BOB_24H)
    assert cli("apply", str(manifest), "--auto-approve").code == 0
    assert cli.resources()["customer/globex"]["status"]["protect"] is False
    write_manifest(manifest, PARTNER, "customers: []\n")
    refused = cli("apply", str(manifest), "--auto-approve")
    assert refused.err == (
        "error: the plan removes customer 'globex', ending the relationship and all access there "
        "(hint: if that is intended, apply with --allow-customer-removal)\n"
    )
    removal = cli("plan", str(manifest), "--format", "json").json()
    assert changes(removal) == [
        ("delete", "group/globex/SOC", "customer_removed"),
        ("delete", BOB, "customer_removed"),
        ("delete", "customer/globex", "removed_from_manifest"),
    ]
    assert cli("apply", str(manifest), "--auto-approve", "--allow-customer-removal").code == 0
    assert [a for a in cli.resources() if "globex" in a] == []


CORRUPT = b'{"format_version": 1, "lineage": '
FOREIGN = b'{"format_version": 1, "lineage": "6d2aab6c-9fb1-43d1-ab8f-f9acef31a6ae", "partner": "other", "resources": {}, "serial": 3}\n'
NEWER = b'{"format_version": 2, "lineage": "6d2aab6c-9fb1-43d1-ab8f-f9acef31a6ae", "partner": "acme", "resources": {}, "serial": 3}\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (CORRUPT, "{loc}: state is not valid JSON (line 1 column 34) (hint: fix or restore it by hand; accessplan never overwrites a state it cannot read)"),
        (FOREIGN, "state belongs to partner 'other', the manifest declares 'acme' (hint: {loc} holds another partner's state; point --state at this partner's state)"),
        (NEWER, "{loc}: state was written by a newer accessplan (format_version 2; this one reads 1) (hint: upgrade accessplan to work with this state)"),
    ],
    ids=["corrupt", "foreign", "newer"],
)
def test_an_unusable_state_is_refused_and_left_untouched(cli: Cli, manifest: Path, content: bytes, message: str) -> None:
    cli.state.mkdir()
    (cli.state / "state.json").write_bytes(content)
    expected = "error: " + message.format(loc=cli.state / "state.json") + "\n"
    for args in (("plan", str(manifest)), ("apply", str(manifest), "--auto-approve", "--allow-escalation", "--force")):
        result = cli(*args)
        assert (result.code, result.err) == (1, expected)
        assert cli.state_bytes() == content
    assert sorted(p.name for p in cli.state.iterdir() if p.name != "state.lock") == ["state.json"]


def test_apply_without_a_terminal_needs_auto_approve(cli: Cli, manifest: Path) -> None:
    result = cli("apply", str(manifest), "--allow-escalation")
    assert result.code == 1
    assert result.err == (
        "error: apply needs a confirmation, and there is no terminal to ask on "
        "(hint: review the plan, then run again with --auto-approve, or apply a saved plan file)\n"
    )
    assert not (cli.state / "state.json").exists()


def test_show_prints_the_state_as_text_and_json(cli: Cli, manifest: Path) -> None:
    empty = cli("show")
    assert empty.out == f"State: {cli.state}: no state yet\n"
    assert cli("show", "--format", "json").json() == {"format_version": 1, "lineage": None, "partner": None, "resources": {}, "serial": None}
    bootstrap(cli, manifest)
    assert cli("show", "--format", "json").out.encode() == cli.state_bytes()
    text = cli("show").out
    lineage = orjson.loads(cli.state_bytes())["lineage"]
    assert text.startswith(f"State: {cli.state} (partner acme, lineage {lineage}, serial 3)\n\npartner/acme\n")
    assert (
        f"\n{BOB}\n"
        '    status: change_ref: null, expires_at: "2026-11-24T09:00:00Z", granted_at: "2026-11-23T09:00:00Z", granted_by: null\n'
        '    expiry:         "24h"\n'
    ) in text


def test_a_poc_customer_is_created_approved(cli: Cli, tmp_path: Path) -> None:
    poc = (
        "customers:\n  - id: soylent\n    name: Soylent\n    region: us\n"
        "    poc: {products: [InsightIDR], first_user: alice@acme.example, expires: 2027-02-28}\n"
    )
    m = write_manifest(tmp_path / "m", PARTNER, poc)
    plan = cli("plan", str(m), "--format", "json").json()
    assert ("create", "assignment/soylent/alice@acme.example", "new") in changes(plan)
    assert cli("apply", str(m), "--auto-approve", "--allow-escalation").code == 0
    assert cli.resources()["customer/soylent"]["status"] == {"protect": False, "relationship": "approved"}
    assert cli("plan", str(m), "--detailed-exitcode").code == 0
