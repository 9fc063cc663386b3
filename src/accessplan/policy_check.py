"""The ``policy`` invariants, judged again on what the state will be after a plan.

``validate`` judges the policy on what the manifest grants
(:mod:`accessplan.checks.policy`). The state can fall short of that on its
own: an admin assignment expires (and stays an expired tombstone while its
grant is unchanged), an absolute ``until`` passes, or the customer revokes the
partner and every assignment there is gone. So the plan judges the state as it
will be after it — every applicable change made, deferred ones not — and
checks ``min_platform_admins_per_customer`` there: a customer that the partner
manages (approved, or revoked) and that would keep fewer live platform-admin
assignments than the policy asks is a warning in the plan, and in ``validate``
given a state (an error under ``--strict``).

The other invariants (no permanent admin, the longest admin duration, admin
customers per user) are about what is granted; an apply never writes more than
the manifest grants, so the manifest's check covers the state too. Customers
still pending are left out: nothing can be applied there yet.

Only the admin assignments are looked at, with the join's rules for one
assignment restated (:class:`_After`), so that a plan or a ``validate`` of a
100,000-assignment manifest pays a few milliseconds for it, not a second plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc
from accessplan.desired import Resources
from accessplan.plan import Warning

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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Granted:
    """What the policy check needs of the manifest: its customers and its admin assignments."""

    customers: dict[str, Mapping[str, Any]]  # customer id -> its spec (``poc`` decides how a new one starts)
    admins: list[tuple[str, str, str]]  # (customer, user, expiry) of every platform-admin assignment


def granted_from_desired(desired: Resources) -> Granted:
    """One pass over the desired resources (kinds told apart by their first letter, for speed)."""
    customers: dict[str, Mapping[str, Any]] = {}
    admins: list[tuple[str, str, str]] = []
    for addr, spec in desired.items():
        first = addr[0]
        if first == "c" and addr.startswith("customer/"):
            customers[addr[9:]] = spec
        elif first == "a" and spec.get("platform_admin") and addr.startswith("assignment/"):
            _, cid, email = addr.split("/", 2)
            admins.append((cid, email, spec["expiry"]))
    return Granted(customers, admins)


def granted_from_manifest(manifest: Manifest, resolved: Resolved) -> Granted:
    """The same, straight from the expanded grants (``validate`` builds no resources)."""
    customers: dict[str, Mapping[str, Any]] = {c.id: {"poc": c.poc is not None} for c in manifest.customers}
    admins = [(cid, email, a.expiry.as_spec()) for (cid, email), a in resolved.assignments.items() if a.platform_admin]
    return Granted(customers, admins)


class _After:
    """Whether an assignment the manifest grants is live after the next plan (the join's rules, for one kind).

    The next plan creates what is new, renews what a changed expiry brings
    back, removes what expired (keeping a tombstone that an unchanged grant
    does not revive) and grants nothing whose absolute ``until`` has passed;
    under a pending or revoked customer nothing is applied.
    """

    def __init__(self, resources: StateResources, customers: Mapping[str, Mapping[str, Any]], now_iso: str) -> None:
        self.resources, self.customers, self.now_iso = resources, customers, now_iso
        self.relationships: dict[str, str] = {}
        self.ended: dict[str, bool] = {}

    def relationship(self, cid: str) -> str:
        rel = self.relationships.get(cid)
        if rel is None:
            res = self.resources.get(f"customer/{cid}")
            rel = lc.relationship(res.get("status")) if res is not None else lc.initial_relationship(self.customers.get(cid) or {})
            self.relationships[cid] = rel
        return rel

    def grant_ended(self, expiry: str) -> bool:
        if expiry not in self.ended:
            end = lc.absolute_end(expiry)
            self.ended[expiry] = end is not None and end <= self.now_iso
        return self.ended[expiry]

    def live(self, cid: str, email: str, expiry: str) -> bool:
        if self.relationship(cid) in lc.BLOCKING or self.grant_ended(expiry):
            return False
        res = self.resources.get(f"assignment/{cid}/{email}")
        if res is None:
            return True
        status = res.get("status")
        if lc.is_tombstone(status) or lc.has_expired(status, self.now_iso):
            return bool(expiry != res["spec"].get("expiry"))  # renewed by a new duration/until, or dead
        return True


def findings(granted: Granted, resources: StateResources, policy: Policy | None, now_iso: str) -> list[Finding]:
    """``min_platform_admins_per_customer`` after the next plan of the manifest against ``resources`` (state)."""
    if policy is None or not policy.min_platform_admins_per_customer:
        return []
    wanted = policy.min_platform_admins_per_customer
    after = _After(resources, granted.customers, now_iso)
    live: dict[str, int] = {}
    lost: dict[str, list[str]] = {}
    for cid, email, expiry in granted.admins:
        if after.live(cid, email, expiry):
            live[cid] = live.get(cid, 0) + 1
        else:
            lost.setdefault(cid, []).append(email)
    out: list[Finding] = []
    for cid in sorted(granted.customers):
        rel = after.relationship(cid)
        have = live.get(cid, 0)
        if rel == lc.PENDING or have >= wanted:
            continue
        if rel == lc.REVOKED:
            why, hint = "the customer revoked the partner", "only the customer can approve the partner again (accessplan customer approve)"
        elif cid in lost:
            why = f"the admin access of {', '.join(sorted(lost[cid]))} has expired"
            hint = "grant platform_admin to another partner user there, or give the expired grant a new duration or until"
        else:
            continue  # the manifest itself grants too few: validate reports that at the customer
        out.append(
            Finding(
                cid,
                f"customer '{cid}' will keep {_plural(have, 'live platform-admin assignment')}, fewer than policy "
                f"min_platform_admins_per_customer ({wanted}): {why}",
                hint,
            )
        )
    return out


def plan_warnings(state: State | None, granted: Granted, policy: Policy | None, now: datetime) -> list[Warning]:
    """The findings for the state after the plan, as plan warnings (kind ``policy``)."""
    if state is None:
        return []
    return [Warning(f"customer/{f.customer}", "policy", f.message) for f in findings(granted, state.resources, policy, lc.iso(now))]


def state_diagnostics(manifest: Manifest, resolved: Resolved, state: State | None, now: datetime) -> list[Diagnostic]:
    """The findings for the state after the next plan, as ``validate`` warnings at each customer."""
    policy = manifest.policy
    if state is None or policy is None or not policy.min_platform_admins_per_customer:
        return []
    from accessplan.errors import Diagnostic

    customers = {c.id: c for c in manifest.customers}
    return [
        Diagnostic("warning", manifest.where(customers[f.customer]), f.message, f.hint, "policy-min-admins-state")
        for f in findings(granted_from_manifest(manifest, resolved), state.resources, policy, lc.iso(now))
    ]
