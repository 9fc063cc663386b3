"""The ``policy`` invariants, judged again on what the state will be after a plan.

``validate`` judges the policy on what the manifest grants
(:mod:`accessplan.checks.policy`). The state can fall short of that on its
own: an admin assignment expires (and stays an expired tombstone while its
grant is unchanged), an absolute ``until`` passes, or the customer revokes the
partner and every assignment there is gone. So the plan builds the state as it
will be after it — every applicable change made, deferred ones not — and
checks ``min_platform_admins_per_customer`` there: a customer that the partner
manages (approved, or revoked) and that would keep fewer live platform-admin
assignments than the policy asks is a warning in the plan, and in ``validate``
given a state (an error under ``--strict``).

The other invariants (no permanent admin, the longest admin duration, admin
customers per user) are about what is granted; an apply never writes more than
the manifest grants, so the manifest's check covers the state too. Customers
still pending are left out: nothing can be applied there yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc
from accessplan.desired import Resources
from accessplan.plan import Plan, Warning

if TYPE_CHECKING:
    from accessplan.errors import Diagnostic
    from accessplan.loader import Manifest
    from accessplan.model import Policy
    from accessplan.resolve import Resolved
    from accessplan.state import State

StateResources = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Finding:
    """One invariant the state will break."""

    customer: str
    message: str
    hint: str


def after_state(plan: Plan, state: State | None, now: datetime) -> StateResources:
    """The state's resources once ``plan`` is applied (nothing is written)."""
    from accessplan.apply import next_state

    if not plan.has_changes:
        return state.resources if state is not None else {}
    return next_state(plan, state, now, None, None).resources


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def findings(after: StateResources, desired: Resources, policy: Policy | None, now_iso: str) -> list[Finding]:
    """``min_platform_admins_per_customer`` on ``after`` (state resources), customer by customer."""
    if policy is None or not policy.min_platform_admins_per_customer:
        return []
    wanted = policy.min_platform_admins_per_customer
    live: dict[str, set[str]] = {}
    for addr, res in after.items():
        if not addr.startswith("assignment/"):
            continue
        status = res.get("status")
        if res["spec"].get("platform_admin") and not lc.is_tombstone(status) and not lc.has_expired(status, now_iso):
            _, cid, email = addr.split("/", 2)
            live.setdefault(cid, set()).add(email)
    granted: dict[str, list[str]] = {}
    for addr, spec in desired.items():
        if addr.startswith("assignment/") and spec.get("platform_admin"):
            _, cid, email = addr.split("/", 2)
            granted.setdefault(cid, []).append(email)
    out: list[Finding] = []
    for addr, res in sorted(after.items()):
        if not addr.startswith("customer/"):
            continue
        cid = addr.split("/", 1)[1]
        rel = lc.relationship(res.get("status"))
        have = live.get(cid, set())
        if rel == lc.PENDING or len(have) >= wanted:
            continue
        lost = sorted(e for e in granted.get(cid, ()) if e not in have)
        if rel == lc.REVOKED:
            why, hint = "the customer revoked the partner", "only the customer can approve the partner again (accessplan customer approve)"
        elif lost:
            why = f"the admin access of {', '.join(lost)} has expired"
            hint = "grant platform_admin to another partner user there, or give the expired grant a new duration or until"
        else:
            continue  # the manifest itself grants too few: validate reports that at the customer
        out.append(
            Finding(
                cid,
                f"customer '{cid}' will keep {_plural(len(have), 'live platform-admin assignment')}, fewer than policy "
                f"min_platform_admins_per_customer ({wanted}): {why}",
                hint,
            )
        )
    return out


def plan_warnings(plan: Plan, state: State | None, desired: Resources, policy: Policy | None, now: datetime) -> list[Warning]:
    """The findings for the state after ``plan``, as plan warnings (kind ``policy``)."""
    if policy is None or not policy.min_platform_admins_per_customer or state is None:
        return []
    found = findings(after_state(plan, state, now), desired, policy, lc.iso(now))
    return [Warning(f"customer/{f.customer}", "policy", f.message) for f in found]


def state_diagnostics(manifest: Manifest, resolved: Resolved, state: State | None, now: datetime) -> list[Diagnostic]:
    """The findings for the state after the next plan, as ``validate`` warnings at each customer."""
    policy = manifest.policy
    if state is None or policy is None or not policy.min_platform_admins_per_customer:
        return []
    from accessplan.desired import desired_resources
    from accessplan.errors import AccessplanError, Diagnostic
    from accessplan.plan import make_plan

    desired = desired_resources(manifest, resolved, now)
    try:
        plan = make_plan(desired, state, now, escalations=False)
    except AccessplanError:
        return []  # the plan itself is refused (a protected customer removed): plan says so
    customers = {c.id: c for c in manifest.customers}
    out: list[Diagnostic] = []
    for f in findings(after_state(plan, state, now), desired, policy, lc.iso(now)):
        if f.customer in customers:
            out.append(Diagnostic("warning", manifest.where(customers[f.customer]), f.message, f.hint, "policy-min-admins-state"))
    return out
