"""Property tests: for random current and desired states, the plan converges and is stable.

* applying a plan gives a state whose next plan has no changes (deferred entries aside);
* the same inputs give byte-identical plans.

The universe is small (a few customers, users and groups) so that collisions —
the interesting cases: a group member whose assignment expired, a tombstone
granted again, a customer removed with what lies under it — happen often.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accessplan.apply import next_state
from accessplan.errors import PlanRefused
from accessplan.plan import make_plan
from accessplan.state import State

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
CUSTOMERS = ("c1", "c2", "c3")
USERS = ("u1@p", "u2@p", "u3@p")
GROUPS = ("g1", "g2")
EXPIRIES = ("permanent", "24h", "48h", "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z")
TIMES = (None, "2026-11-22T09:00:00Z", "2026-11-23T09:00:00Z", "2026-11-24T09:00:00Z")

assignment_specs = st.fixed_dictionaries(
    {
        "expiry": st.sampled_from(EXPIRIES),
        "logs": st.just({"restrict": [], "select": []}),
        "platform_admin": st.booleans(),
        "products": st.sampled_from([[], ["InsightIDR"]]),
        "roles": st.sampled_from([[], ["InsightIDR Viewer"], ["InsightIDR Admin"]]),
    }
)


def group_specs() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "description": st.sampled_from([None, "night"]),
            "logs": st.just({"restrict": [], "select": []}),
            "members": st.lists(st.sampled_from(USERS), unique=True).map(sorted),
            "products": st.just(["InsightIDR"]),
            "roles": st.sampled_from([["InsightIDR Viewer"], ["InsightIDR Admin"]]),
        }
    )


def customer_spec(cid: str, name: str, poc: bool, protect: bool) -> dict[str, Any]:
    return {
        "default_all_logs": True,
        "labels": {},
        "licensed": ["InsightIDR"],
        "name": name,
        "poc": {"expires": "2027-01-01", "first_user": "u1@p", "products": ["InsightIDR"]} if poc else None,
        "poc_licenses": [],
        "products": [] if poc else ["InsightIDR"],
        "protect": protect,
        "region": "us",
    }


@st.composite
def resources(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Desired specs: the partner, some customers, and what lies under them."""
    out: dict[str, dict[str, Any]] = {"partner/p": {"default_all_logs": True, "name": "P", "products": ["InsightIDR"], "region": "us"}}
    for cid in draw(st.lists(st.sampled_from(CUSTOMERS), unique=True)):
        out[f"customer/{cid}"] = customer_spec(cid, draw(st.sampled_from(["A", "B"])), draw(st.booleans()), False)
        for user in draw(st.lists(st.sampled_from(USERS), unique=True)):
            out[f"assignment/{cid}/{user}"] = draw(assignment_specs)
        for name in draw(st.lists(st.sampled_from(GROUPS), unique=True)):
            out[f"group/{cid}/{name}"] = draw(group_specs())
        if draw(st.booleans()):
            out[f"log/{cid}/fw"] = {"log_set": None}
    return dict(sorted(out.items()))


@st.composite
def states(draw: st.DrawFn) -> State | None:
    """A current state: resources with random statuses (relationships, expiries, tombstones)."""
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    specs = draw(resources())
    found: dict[str, dict[str, Any]] = {}
    for addr, spec in specs.items():
        status: dict[str, Any] = {}
        if addr.startswith("customer/"):
            status = {"protect": draw(st.sampled_from([False, False, False, True])), "relationship": draw(st.sampled_from(["approved", "approved", "pending", "revoked"]))}
        elif addr.startswith("assignment/"):
            status = {"change_ref": None, "expires_at": draw(st.sampled_from(TIMES)), "granted_at": "2026-11-20T00:00:00Z", "granted_by": None}
            if draw(st.integers(0, 3)) == 0:
                status.update({"removed_at": "2026-11-22T00:00:00Z", "tombstone": "expired"})
        found[addr] = {"spec": spec, "status": status}
    return State(lineage="00000000-0000-4000-8000-000000000000", serial=draw(st.integers(0, 5)), partner="p", resources=found)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=resources(), current=states(), hours=st.integers(0, 60))
def test_applying_a_plan_converges(desired: dict[str, Any], current: State | None, hours: int) -> None:
    now = NOW + timedelta(hours=hours)
    try:
        plan = make_plan(desired, current, now, state_location="st")
    except PlanRefused:
        assume(False)
        return
    after = next_state(plan, current, now, "a@p", "ref") if plan.has_changes else current
    again = make_plan(desired, after, now, state_location="st")
    assert not again.has_changes, [(c.action.value, c.address, c.reason.value) for c in again.applicable]
    if plan.has_changes:
        assert again.forget == ()
        assert after is not None and after.serial == (current.serial + 1 if current is not None else 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=resources(), current=states(), hours=st.integers(0, 60))
def test_the_same_inputs_give_byte_identical_plans(desired: dict[str, Any], current: State | None, hours: int) -> None:
    now = NOW + timedelta(hours=hours)
    try:
        one = make_plan(desired, current, now, state_location="st")
    except PlanRefused:
        assume(False)
        return
    two = make_plan(copy.deepcopy(desired), copy.deepcopy(current), now, state_location="st")
    assert one.to_bytes() == two.to_bytes()
