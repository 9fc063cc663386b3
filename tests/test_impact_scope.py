"""What a plan's access comparison looks at, and the shortcuts that keep a large plan fast."""

from __future__ import annotations

from typing import Any

from test_impact import group, role
from test_plan import NOW, PARTNER, applied, assignment, customer

from accessplan.impact_scope import Addresses, role_holders, touched
from accessplan.plan import Action, Change, Reason, make_plan


def change(address: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> Change:
    action = Action.UPDATE if before and after else Action.CREATE if after else Action.DELETE
    return Change(address, action, Reason.CHANGED, before, after)


def test_what_a_change_touches() -> None:
    soc = group("ann@acme", "bob@acme")
    found = touched([
        change("assignment/globex/cy@acme", assignment(), assignment(platform_admin=True)),
        change("group/globex/SOC", soc, group("ann@acme", "dan@acme")),  # members only: who joined or left
        change("group/initech/SOC", soc, {**soc, "roles": ["InsightIDR Admin"]}),  # roles: every member
        change("role/umbrella/Tier 1", role(Collector="View Only"), role(Collector="Administer")),
        change("logset/hooli/Firewall", {"logs": ["a"]}, {"logs": ["a", "b"]}),
        change("customer/acme-co", customer("acme-co"), customer("acme-co", name="Acme Co", labels={"tier": "gold"})),  # a rename
        change("customer/vandelay", customer("vandelay"), customer("vandelay", licensed=["InsightIDR", "InsightVM"])),
    ])
    assert sorted(found.pairs) == [
        ("globex", "bob@acme"), ("globex", "cy@acme"), ("globex", "dan@acme"), ("initech", "ann@acme"), ("initech", "bob@acme"),
    ]
    assert (found.whole, found.roles, found.logs) == ({"hooli", "vandelay"}, {"umbrella": {"Tier 1"}}, {"hooli"})
    assert found.accounts == {"globex", "initech", "umbrella", "hooli", "vandelay"}


def test_addresses_find_an_accounts_resources_and_a_roles_holders() -> None:
    specs = {
        "assignment/globex/ann@acme": assignment(roles=["Tier 1"]),
        "assignment/globex/bob@acme": assignment(),
        "assignment/globex-eu/cy@acme": assignment(roles=["Tier 1"]),  # another account whose id starts alike
        "customer/globex": customer("globex"),
        "group/globex/SOC": group("dan@acme", "eve@acme"),
        "group/globex/Other": group("fay@acme", roles=("InsightIDR Viewer",)),
        "log/globex/fw": {"log_set": None},
        "user/globex/own@globex": {"roles": ["Tier 1"]},
    }
    found = Addresses(dict(reversed(list(specs.items()))))  # any order: the index sorts
    assert list(found.subset(["globex"])) == [
        "customer/globex", "log/globex/fw", "user/globex/own@globex", "assignment/globex/ann@acme", "assignment/globex/bob@acme",
        "group/globex/Other", "group/globex/SOC",
    ]
    assert role_holders(found, {"globex": {"Tier 1"}}) == {
        ("globex", "ann@acme"), ("globex", "dan@acme"), ("globex", "eve@acme"), ("globex", "own@globex"),
    }
    state = Addresses({a: {"spec": s, "status": {}} for a, s in specs.items()}, state=True, skip={"assignment/globex/ann@acme"})
    assert list(state.under("globex", ["assignment"])) == ["assignment/globex/bob@acme"]


def test_unchanged_assignments_ending_soon_are_warned_about_whether_or_not_a_customer_is_removed() -> None:
    base = {**PARTNER, "customer/globex": customer("globex"), "customer/initech": customer("initech"),
            "assignment/globex/bob@acme": assignment(expiry="48h"), "assignment/globex/cy@acme": assignment(expiry="240h")}
    state = applied(base)
    expected = [("assignment/globex/bob@acme", "expiring", "access expires at 2026-11-25T09:00:00Z (in 2d)")]
    same = make_plan(base, state, NOW, expiry_warning_hours=72)
    assert [(w.address, w.kind, w.message) for w in same.warnings] == expected
    without_initech = {a: s for a, s in base.items() if a != "customer/initech"}
    removing = make_plan(without_initech, state, NOW, expiry_warning_hours=72)
    assert [c.address for c in removing.changes] == ["customer/initech"]
    assert [(w.address, w.kind, w.message) for w in removing.warnings] == expected
