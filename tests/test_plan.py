"""The planner as a library: the keyed join, field diffs, order, reasons, hashes."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from accessplan.apply import next_state
from accessplan.errors import PlanRefused
from accessplan.plan import Action, Change, Plan, Reason, make_plan
from accessplan.specdiff import spec_diff, value_at
from accessplan.state import State

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)


def assignment(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "expiry": "permanent",
        "logs": {"restrict": [], "select": []},
        "platform_admin": False,
        "products": ["InsightIDR"],
        "roles": ["InsightIDR Viewer"],
    }
    spec.update(over)
    return spec


def customer(cid: str, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "default_all_logs": True,
        "labels": {},
        "licensed": ["InsightIDR"],
        "name": cid.title(),
        "poc": None,
        "poc_licenses": [],
        "products": ["InsightIDR"],
        "protect": False,
        "region": "us",
    }
    spec.update(over)
    return spec


def group(*members: str) -> dict[str, Any]:
    return {"description": None, "logs": {"restrict": [], "select": []}, "members": list(members), "products": ["InsightIDR"], "roles": ["InsightIDR Viewer"]}


PARTNER = {"partner/acme": {"default_all_logs": True, "name": "Acme", "products": ["InsightIDR"], "region": "us"}}


def desired(**extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(PARTNER)
    out["customer/globex"] = customer("globex")
    out.update({k.replace("__", "/").replace("_at_", "@"): v for k, v in extra.items()})
    return out


def applied(resources: dict[str, Any], *, approved: bool = True, now: datetime = NOW) -> State:
    """The state after applying ``resources`` (customers approved, as their admin would)."""
    plan = make_plan(resources, None, now, escalations=False)
    state = next_state(plan, None, now, None, None)
    if approved:
        for addr, res in state.resources.items():
            if addr.startswith("customer/"):
                res["status"]["relationship"] = "approved"
        state = next_state(make_plan(resources, state, now, escalations=False), state, now, None, None)
    return state


def summary(plan: Plan) -> list[tuple[str, str, str]]:
    return [(c.action.value, c.address, c.reason.value) for c in plan.changes]


def test_spec_diff_gives_the_added_removed_and_new_value_views() -> None:
    before = {"roles": ["A", "B"], "name": "Old", "logs": {"select": ["x"], "restrict": []}, "labels": {"tier": "gold", "a.b": "1"}, "gone": 1}
    after = {"roles": ["B", "C"], "name": "New", "logs": {"select": ["x", "y"], "restrict": []}, "labels": {"tier": "silver"}, "new": [1]}
    assert spec_diff(before, after) == (
        {"logs.select": ["y"], "roles": ["C"]},
        {"roles": ["A"]},
        {"gone": None, "labels.a.b": None, "labels.tier": "silver", "name": "New", "new": [1]},
    )
    assert value_at(before, "labels.a.b") == "1"
    assert value_at(before, "logs.select") == ["x"]
    assert value_at(before, "nothing.here") is None


def test_spec_diff_of_lists_of_mappings_and_reordered_lists() -> None:
    before = {"poc_licenses": [{"product": "A", "expires": "2027-01-01"}], "members": ["a", "b"]}
    after = {"poc_licenses": [{"product": "A", "expires": "2027-02-01"}], "members": ["b", "a"]}
    assert spec_diff(before, after) == (
        {"poc_licenses": [{"product": "A", "expires": "2027-02-01"}]},
        {"poc_licenses": [{"product": "A", "expires": "2027-01-01"}]},
        {"members": ["b", "a"]},
    )


def test_an_empty_state_creates_parents_first_and_defers_under_a_pending_customer() -> None:
    want = desired(assignment__globex__bob_at_acme=assignment(), group__globex__SOC=group("bob@acme"))
    plan = make_plan(want, None, NOW, state_location="st")
    assert plan.state_empty and plan.lineage is None and plan.serial is None
    assert summary(plan) == [
        ("create", "partner/acme", "new"),
        ("create", "customer/globex", "new"),
        ("defer", "assignment/globex/bob@acme", "customer_pending"),
        ("defer", "group/globex/SOC", "customer_pending"),
    ]
    assert plan.summary == {"add": 2, "change": 0, "defer": 2, "destroy": 0}
    assert plan.has_changes
    assert [c.address for c in plan.applicable] == ["partner/acme", "customer/globex"]


def test_deletes_go_children_first_after_creates_and_updates() -> None:
    state = applied(desired(assignment__globex__bob_at_acme=assignment(), group__globex__SOC=group("bob@acme"), logset__globex__FW={"logs": []}))
    want = desired(assignment__globex__eve_at_acme=assignment())
    want["customer/globex"] = customer("globex", name="Globex Corp")
    plan = make_plan(want, state, NOW, escalations=False)
    assert summary(plan) == [
        ("update", "customer/globex", "changed"),
        ("create", "assignment/globex/eve@acme", "new"),
        ("delete", "group/globex/SOC", "removed_from_manifest"),
        ("delete", "assignment/globex/bob@acme", "removed_from_manifest"),
        ("delete", "logset/globex/FW", "removed_from_manifest"),
    ]
    update = plan.changes[0]
    assert (update.added, update.removed, update.changed) == ({}, {}, {"name": "Globex Corp"})
    assert update.before is not None and update.before["name"] == "Globex"


def test_change_sort_key_orders_by_phase_then_kind_rank() -> None:
    changes = [
        Change("group/c/g", Action.DEFER, Reason.CUSTOMER_PENDING),
        Change("customer/c", Action.DELETE, Reason.REMOVED_FROM_MANIFEST),
        Change("assignment/c/u", Action.DELETE, Reason.CUSTOMER_REMOVED),
        Change("user/c/u", Action.CREATE, Reason.NEW),
        Change("customer/d", Action.CREATE, Reason.NEW),
    ]
    assert [c.address for c in sorted(changes)] == ["customer/d", "user/c/u", "assignment/c/u", "customer/c", "group/c/g"]


def test_expiry_deletes_with_memberships_then_keeps_a_tombstone() -> None:
    want = desired(assignment__globex__bob_at_acme=assignment(expiry="24h"), group__globex__SOC=group("bob@acme", "eve@acme"))
    state = applied(want)
    assert state.resources["assignment/globex/bob@acme"]["status"]["expires_at"] == "2026-11-24T09:00:00Z"
    plan = make_plan(want, state, LATER, escalations=False)
    assert summary(plan) == [("update", "group/globex/SOC", "expired"), ("delete", "assignment/globex/bob@acme", "expired")]
    assert plan.changes[0].removed == {"members": ["bob@acme"]}
    after = next_state(plan, state, LATER, "x@acme", None)
    assert after.resources["assignment/globex/bob@acme"]["status"]["tombstone"] == "expired"
    again = make_plan(want, after, LATER, escalations=False)
    assert again.changes == ()
    # a group change unrelated to bob keeps him out of it
    want2 = dict(want)
    want2["group/globex/SOC"] = {**group("bob@acme", "eve@acme"), "description": "night shift"}
    edit = make_plan(want2, after, LATER, escalations=False)
    assert summary(edit) == [("update", "group/globex/SOC", "changed")]
    assert edit.changes[0].changed == {"description": "night shift"}
    assert edit.changes[0].after is not None and edit.changes[0].after["members"] == ["eve@acme"]


def test_a_tombstone_no_longer_in_the_manifest_is_forgotten_at_the_next_write() -> None:
    want = desired(assignment__globex__bob_at_acme=assignment(expiry="24h"))
    state = next_state(make_plan(want, applied(want), LATER, escalations=False), applied(want), LATER, None, None)
    gone = desired()
    gone["customer/globex"] = customer("globex", name="Renamed")
    plan = make_plan(gone, state, LATER, escalations=False)
    assert plan.forget == ("assignment/globex/bob@acme",)
    assert summary(plan) == [("update", "customer/globex", "changed")]
    assert "assignment/globex/bob@acme" not in next_state(plan, state, LATER, None, None).resources


def test_an_until_already_past_is_not_granted_and_warned_about() -> None:
    want = desired(assignment__globex__bob_at_acme=assignment(expiry="2026-11-01T00:00:00Z"))
    state = applied(desired())
    plan = make_plan(want, state, NOW, escalations=False)
    assert plan.changes == ()
    assert [(w.address, w.kind, w.message) for w in plan.warnings] == [
        ("assignment/globex/bob@acme", "grant_ended", "not granted: its grant ended at 2026-11-01T00:00:00Z; change or remove the grant"),
    ]


def test_warnings_for_assignments_expiring_soon_and_expired_licenses() -> None:
    want = desired(
        assignment__globex__bob_at_acme=assignment(expiry="48h"),
        assignment__globex__eve_at_acme=assignment(expiry="2026-12-31T00:00:00Z"),
    )
    want["customer/globex"] = customer("globex", poc_licenses=[{"expires": "2026-11-01", "product": "InsightConnect", "product_admin": "bob@acme"}])
    state = applied(desired())
    plan = make_plan(want, state, NOW, escalations=False, expiry_warning_hours=72)
    assert [(w.address, w.kind, w.message) for w in plan.warnings] == [
        ("assignment/globex/bob@acme", "expiring", "access expires at 2026-11-25T09:00:00Z (in 2d)"),
        ("customer/globex", "license_expired", "POC license for InsightConnect expired on 2026-11-01; the product is no longer licensed"),
    ]


def test_removing_a_customer_deletes_what_lies_under_it() -> None:
    state = applied(desired(assignment__globex__bob_at_acme=assignment()))
    plan = make_plan(dict(PARTNER), state, NOW, escalations=False)
    assert summary(plan) == [
        ("delete", "assignment/globex/bob@acme", "customer_removed"),
        ("delete", "customer/globex", "removed_from_manifest"),
    ]


def test_a_protected_customer_in_state_refuses_the_plan() -> None:
    want = desired()
    want["customer/globex"] = customer("globex", protect=True)
    state = applied(want)
    with pytest.raises(PlanRefused) as exc:
        make_plan(dict(PARTNER), state, NOW)
    assert exc.value.render() == (
        "error: the plan would remove protected customer 'globex' "
        "(hint: state marks it protected: apply 'protect: false' first, then remove it)"
    )


def test_the_same_inputs_give_byte_identical_plans_and_json_round_trips() -> None:
    want = desired(assignment__globex__bob_at_acme=assignment(), group__globex__SOC=group("bob@acme"))
    state = applied(desired())
    one = make_plan(want, state, NOW, state_location="st")
    two = make_plan(copy.deepcopy(want), copy.deepcopy(state), NOW, state_location="st")
    assert one.to_bytes() == two.to_bytes()
    assert one.content_hash == one.compute_hash() and one.content_hash.startswith("sha256:")
    back = Plan.from_json(one.to_json())
    assert back == one
    assert back.to_bytes() == one.to_bytes()


def test_the_plan_json_document_shape() -> None:
    plan = make_plan(desired(), None, NOW, state_location="st")
    doc = plan.to_json()
    assert sorted(doc) == [
        "changes", "content_hash", "created_at", "desired_hash", "escalations", "forget", "format_version",
        "impact", "lineage", "partner", "serial", "state", "state_empty", "summary", "warnings",
    ]
    assert (doc["format_version"], doc["partner"], doc["created_at"], doc["state_empty"], doc["impact"]) == (1, "acme", "2026-11-23T09:00:00Z", True, [])
    assert doc["changes"][0] == {
        "action": "create",
        "added": {},
        "address": "partner/acme",
        "after": PARTNER["partner/acme"],
        "before": None,
        "changed": {},
        "reason": "new",
        "removed": {},
    }
    assert [r.value for r in Reason] == [
        "new", "changed", "removed_from_manifest", "customer_removed", "expired", "renewed", "customer_pending", "customer_revoked",
        "license_expired", "user_removed",
    ]


def escalations(plan: Plan) -> list[tuple[str, str, str, bool]]:
    return [(e.address, e.kind, e.detail, e.deferred) for e in plan.escalations]


def test_escalations_are_judged_on_effective_access() -> None:
    state = applied(desired(assignment__globex__bob_at_acme=assignment(expiry="24h")))
    raised = desired(assignment__globex__bob_at_acme=assignment(roles=["InsightIDR Admin"], platform_admin=True))
    assert escalations(make_plan(raised, state, NOW)) == [
        ("assignment/globex/bob@acme", "platform_admin", "gains platform administrator", False),
        ("assignment/globex/bob@acme", "administer", "gains Administer on InsightIDR (Collector, Detection and Response Dashboards, InsightIDR Core)", False),
        ("assignment/globex/bob@acme", "permanent", "becomes permanent (was 24h)", False),
    ]
    lowered = desired(assignment__globex__bob_at_acme=assignment(expiry="12h", roles=[]))
    assert escalations(make_plan(lowered, state, NOW)) == []


def test_a_group_edit_escalates_its_members_and_a_pending_pair_is_marked_deferred() -> None:
    viewer = desired(assignment__globex__bob_at_acme=assignment(products=[], roles=[]), group__globex__SOC=group("bob@acme"))
    state = applied(viewer)
    admin_group = dict(viewer)
    admin_group["group/globex/SOC"] = {**group("bob@acme"), "roles": ["InsightIDR Admin"]}
    assert escalations(make_plan(admin_group, state, NOW)) == [
        ("assignment/globex/bob@acme", "administer", "gains Administer on InsightIDR (Collector, Detection and Response Dashboards, InsightIDR Core)", False),
    ]
    pending = make_plan(desired(assignment__globex__bob_at_acme=assignment()), None, NOW)
    assert escalations(pending) == [
        ("assignment/globex/bob@acme", "new_access", "access to customer globex once it approves the partner", True),
    ]
    live = make_plan(desired(assignment__globex__bob_at_acme=assignment()), applied(desired()), NOW)
    assert escalations(live) == [("assignment/globex/bob@acme", "new_access", "new access to customer globex", False)]
