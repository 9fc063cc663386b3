"""The access impact of a plan: who gains or loses which access, also through roles, groups and log sets."""

from __future__ import annotations

from typing import Any

from test_plan import NOW, PARTNER, applied, assignment, customer

from accessplan.impact import Impact
from accessplan.plan import Plan, make_plan
from accessplan.render.impact_view import by_customer
from accessplan.render.text import render_plan


def role(**permissions: str) -> dict[str, Any]:
    return {"extends": None, "permissions": dict(sorted(permissions.items())), "product": "InsightIDR"}


def group(*members: str, roles: tuple[str, ...] = ("Tier 1",), logs: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"description": None, "logs": logs or {"restrict": [], "select": []}, "members": sorted(members),
            "products": ["InsightIDR"], "roles": list(roles)}


MEMBER = assignment(products=[], roles=[])


def entries(plan: Plan) -> list[dict[str, Any]]:
    return [i.to_json() for i in plan.impact]


def tier1_org(permissions: dict[str, str]) -> dict[str, Any]:
    """Two customers whose "SOC" group uses the custom role Tier 1; dave is assigned but in no group."""
    out: dict[str, Any] = dict(PARTNER)
    teams = {"globex": ("ann@acme", "bob@acme"), "initech": ("bob@acme", "cy@acme")}
    for cid, members in teams.items():
        out[f"customer/{cid}"] = customer(cid)
        out[f"role/{cid}/Tier 1"] = role(**permissions)
        out[f"group/{cid}/SOC"] = group(*members)
        for m in members:
            out[f"assignment/{cid}/{m}"] = MEMBER
    out["assignment/globex/dave@acme"] = assignment()
    return dict(sorted(out.items()))


def test_redefining_a_custom_role_shows_every_member_of_every_group_using_it() -> None:
    state = applied(tier1_org({"InsightIDR Core": "View Only"}))
    plan = make_plan(tier1_org({"InsightIDR Core": "View and Change", "Collector": "Administer"}), state, NOW)
    gained = {"features": {"InsightIDR": {"Collector": "Administer", "InsightIDR Core": "View and Change"}}}
    lost = {"features": {"InsightIDR": {"InsightIDR Core": "View Only"}}}
    assert entries(plan) == [
        {"access": "changed", "customer": cid, "deferred": False, "escalation": True, "gained": gained, "lost": lost, "user": user}
        for cid, user in [("globex", "ann@acme"), ("globex", "bob@acme"), ("initech", "bob@acme"), ("initech", "cy@acme")]
    ]
    text = render_plan(plan, color=False)
    assert (
        "Access impact: 4 changes of access for 3 people in 2 accounts (4 escalate, 0 deferred)\n"
        "  globex: 2 people\n"
        "    ! ann@acme, bob@acme\n"
        "        + InsightIDR/Collector: Administer\n"
        "        ~ InsightIDR/InsightIDR Core: View Only -> View and Change\n"
        "  initech: 2 people\n"
        "    ! bob@acme, cy@acme\n"
        "        + InsightIDR/Collector: Administer\n"
        "        ~ InsightIDR/InsightIDR Core: View Only -> View and Change\n"
        "\n"
        "Changes:\n"
    ) in text


def test_reusing_the_engine_validate_built_gives_the_same_plan() -> None:
    from accessplan.access import AccessModel

    state = applied(tier1_org({"InsightIDR Core": "View Only"}))
    want = tier1_org({"InsightIDR Core": "Administer"})
    want["assignment/initech/dave@acme"] = assignment(platform_admin=True)
    fresh = make_plan(want, state, NOW)
    assert fresh.impact and fresh.escalations
    assert make_plan(want, state, NOW, desired_model=AccessModel(want)) == fresh


def test_a_role_change_reaching_a_thousand_analysts_is_grouped_with_counts_per_customer() -> None:
    def org(level: str) -> dict[str, Any]:
        out: dict[str, Any] = dict(PARTNER)
        for c in range(50):
            cid = f"c{c:02d}"
            members = [f"a{c:02d}-{i:02d}@acme" for i in range(20)]
            out[f"customer/{cid}"] = customer(cid)
            out[f"role/{cid}/Tier 1"] = role(**{"InsightIDR Core": level})
            out[f"group/{cid}/SOC"] = group(*members)
            out.update({f"assignment/{cid}/{m}": MEMBER for m in members})
        return dict(sorted(out.items()))

    plan = make_plan(org("View and Change"), applied(org("View Only")), NOW)
    assert len(plan.impact) == 1000 and not any(i.escalation for i in plan.impact)
    grouped = by_customer(plan.impact)
    assert [(c.customer, c.people, len(c.groups)) for c in grouped] == [(f"c{c:02d}", 20, 1) for c in range(50)]
    assert grouped[0].groups[0].lines == (("~", "InsightIDR/InsightIDR Core: View Only -> View and Change"),)


def logs_org(fw_logs: list[str]) -> dict[str, Any]:
    """ann selects the Firewall set; bob selects it with fw-2 restricted; cy selects every log of it one by one."""
    out: dict[str, Any] = dict(PARTNER)
    out["customer/globex"] = customer("globex", default_all_logs=False)
    out["logset/globex/Firewall"] = {"logs": fw_logs}
    out.update({f"log/globex/{name}": {"log_set": "Firewall"} for name in fw_logs})
    out["assignment/globex/ann@acme"] = assignment(logs={"restrict": [], "select": ["Firewall"]})
    out["assignment/globex/bob@acme"] = assignment(logs={"restrict": ["fw-2"], "select": ["Firewall"]})
    out["assignment/globex/cy@acme"] = assignment(logs={"restrict": [], "select": ["fw-1", "fw-2"]})
    return dict(sorted(out.items()))


def test_a_log_added_to_a_selected_set_reaches_only_those_whose_selection_covers_later_logs() -> None:
    plan = make_plan(logs_org(["fw-1", "fw-2", "fw-3"]), applied(logs_org(["fw-1", "fw-2"])), NOW)
    assert entries(plan) == [
        {"access": "changed", "customer": "globex", "deferred": False, "escalation": False,
         "gained": {"logs": ["fw-3"]}, "lost": {}, "user": user}
        for user in ("ann@acme", "cy@acme")
    ]


def test_a_narrowed_grant_loses_everything_with_the_expiry_it_had() -> None:
    want = {**PARTNER, "customer/globex": customer("globex"), "customer/initech": customer("initech")}
    state = applied({**want, "assignment/globex/bob@acme": assignment(expiry="48h"), "assignment/initech/bob@acme": assignment()})
    plan = make_plan({**want, "assignment/globex/bob@acme": assignment(expiry="48h")}, state, NOW)
    assert entries(plan) == [{
        "access": "removed", "customer": "initech", "deferred": False, "escalation": False, "gained": {},
        "lost": {"expiry": "permanent", "features": {"InsightIDR": {"Detection and Response Dashboards": "View Only", "InsightIDR Core": "View Only"}},
                 "products": ["InsightIDR"]},
        "user": "bob@acme",
    }]


def test_expiry_is_compared_as_stamped_and_a_new_expiry_counts_from_the_apply() -> None:
    base = {**PARTNER, "customer/globex": customer("globex")}
    state = applied({**base, "assignment/globex/bob@acme": assignment(expiry="24h"), "assignment/globex/cy@acme": assignment(expiry="48h")})
    want = {**base, "assignment/globex/bob@acme": assignment(expiry="permanent"),
            "assignment/globex/cy@acme": assignment(expiry="48h", platform_admin=True)}
    plan = make_plan(want, state, NOW)
    assert entries(plan) == [
        {"access": "changed", "customer": "globex", "deferred": False, "escalation": True,
         "gained": {"expiry": "permanent"}, "lost": {"expiry": "2026-11-24T09:00:00Z"}, "user": "bob@acme"},
        {"access": "changed", "customer": "globex", "deferred": False, "escalation": True,
         "gained": {"platform_admin": True}, "lost": {}, "user": "cy@acme"},
    ]
    renewed = make_plan({**base, "assignment/globex/bob@acme": assignment(expiry="72h"), "assignment/globex/cy@acme": assignment(expiry="48h")},
                        state, NOW)
    assert [(i.user, dict(i.gained), dict(i.lost)) for i in renewed.impact] == [
        ("bob@acme", {"expiry": "72h"}, {"expiry": "2026-11-24T09:00:00Z"}),
    ]
    assert "        ~ expiry: until 2026-11-24T09:00:00Z -> 72h from apply\n" in render_plan(renewed, color=False)


def test_new_access_in_a_pending_customer_is_deferred_and_platform_admin_is_flagged() -> None:
    want = {**PARTNER, "customer/globex": customer("globex"), "assignment/globex/bob@acme": assignment(products=[], roles=[], platform_admin=True)}
    plan = make_plan(want, None, NOW)
    assert entries(plan) == [{
        "access": "new", "customer": "globex", "deferred": True, "escalation": True,
        "gained": {"expiry": "permanent", "platform_admin": True}, "lost": {}, "user": "bob@acme",
    }]


def test_a_change_that_moves_no_access_has_no_impact_and_the_plan_round_trips() -> None:
    state = applied(tier1_org({"InsightIDR Core": "View Only"}))
    renamed = tier1_org({"InsightIDR Core": "View Only"})
    renamed["customer/globex"] = customer("globex", name="Globex Corporation")
    renamed["group/initech/SOC"] = {**group("bob@acme", "cy@acme"), "description": "night shift"}
    plan = make_plan(renamed, state, NOW)
    assert [c.address for c in plan.changes] == ["customer/globex", "group/initech/SOC"]
    assert plan.impact == ()
    raised = make_plan(tier1_org({"InsightIDR Core": "Administer"}), state, NOW)
    assert Plan.from_json(raised.to_json()) == raised
    assert all(isinstance(i, Impact) for i in Plan.from_json(raised.to_json()).impact)


def test_the_text_impact_section_strips_control_sequences_from_names() -> None:
    base = {**PARTNER, "customer/globex": customer("globex", default_all_logs=False), "log/globex/fw\x1b]0;x\x07\u202e1": {"log_set": None}}
    state = applied(base)
    want = {**base, "assignment/globex/eve\x1b[2J@acme": assignment(logs={"restrict": [], "select": ["fw\x1b]0;x\x07\u202e1"]})}
    text = render_plan(make_plan(dict(sorted(want.items())), state, NOW), color=False)
    assert (
        "  globex: 1 person\n"
        "    ! eve@acme\n"
        "        + new access, permanent\n"
        "        + products: InsightIDR\n"
        "        + InsightIDR/Detection and Response Dashboards: View Only\n"
        "        + InsightIDR/InsightIDR Core: View Only\n"
        "        + logs: fw1\n"
    ) in text
