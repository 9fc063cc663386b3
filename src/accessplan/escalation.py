"""Escalations: changes that give someone more power, judged on effective access.

SPEC section 4 names four: platform admin gained, an Administer level gained, a
permanent grant where there was an expiry, and access to a customer where the
user has no live assignment in state (a new assignment, one granted again
after it expired or was revoked, or a deferred pair that will go live once the
customer approves). Config diffs hide these — a role definition or a group
edit can raise dozens of people at once — so both sides go through the one
access engine: before over the live resources of state, after over the
effective desired resources (dead assignments removed, deferred ones kept, so
that deferred escalations can be marked).

Only accounts the plan touches are indexed, so a small change to a large MSSP
costs little. Every plan format lists escalations first; ``apply`` refuses the
ones that are not deferred unless ``--allow-escalation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc

if TYPE_CHECKING:
    from accessplan.plan import Change, Reason

#: The kinds of escalation, in the order they are listed for one person.
KINDS = ("platform_admin", "administer", "permanent", "new_access")
_ADMINISTER = "Administer"


@dataclass(frozen=True, slots=True, order=True)
class Escalation:
    """One person gaining power in one account through this plan."""

    address: str  # the assignment (partner user in a customer) or user entry that carries it
    kind: str  # one of KINDS
    customer: str  # the account: a customer id (or the partner's id for its own people)
    user: str
    detail: str
    deferred: bool  # inside a pending or revoked customer: marked, not refused

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "customer": self.customer,
            "deferred": self.deferred,
            "detail": self.detail,
            "kind": self.kind,
            "user": self.user,
        }

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> Escalation:
        if doc["kind"] not in KINDS:
            raise ValueError(f"unknown escalation kind {doc['kind']!r}")
        return Escalation(
            address=str(doc["address"]),
            kind=str(doc["kind"]),
            customer=str(doc["customer"]),
            user=str(doc["user"]),
            detail=str(doc["detail"]),
            deferred=bool(doc["deferred"]),
        )


def _account(addr: str) -> str:
    return addr.partition("/")[2].partition("/")[0]


def _touched(changes: Iterable[Change]) -> tuple[set[tuple[str, str]], set[str]]:
    """The (account, user) pairs a plan touches, and the accounts touched as a whole."""
    pairs: set[tuple[str, str]] = set()
    whole: set[str] = set()
    for change in changes:
        kind, account, name = (change.address.split("/", 2) + [""])[:3]
        if kind in ("assignment", "user"):
            pairs.add((account, name))
        elif kind == "group":
            for spec in (change.before, change.after):
                for member in (spec or {}).get("members") or ():
                    pairs.add((account, member))
        elif kind in ("role", "customer", "partner"):
            whole.add(account)
    return pairs, whole


def find_escalations(
    current: Mapping[str, Mapping[str, Any]],
    effective: Mapping[str, Mapping[str, Any]],
    changes: Iterable[Change],
    blocked: Mapping[str, Reason],
    lapsed: AbstractSet[str],
) -> tuple[Escalation, ...]:
    """Escalations of moving from ``current`` (state resources) to ``effective`` (specs).

    ``lapsed``: the assignments of ``current`` that give no access any more
    (tombstones, and those past their ``expires_at``).
    """
    from accessplan.access import AccessModel

    changes = list(changes)
    partner = next((_account(a) for a in effective if a.startswith("partner/")), None)
    pairs, whole = _touched(changes)
    accounts = {a for a, _ in pairs} | whole
    if not accounts:
        return ()
    scope = accounts | ({partner} if partner else set())
    # Index only the accounts the plan touches; when that is most of them,
    # filtering would cost more than it saves.
    everything = 10 * len(scope) > sum(1 for a in effective if a.startswith("customer/"))
    if everything:
        before_specs = {addr: res["spec"] for addr, res in current.items() if addr not in lapsed}
    else:
        before_specs = {addr: res["spec"] for addr, res in current.items() if addr not in lapsed and _account(addr) in scope}
    after_specs = effective if everything else {addr: spec for addr, spec in effective.items() if _account(addr) in scope}
    before = AccessModel(before_specs)
    after = AccessModel(after_specs, baseline=before_specs)
    for account in whole:
        pairs.update((account, user) for user in after.users(account))
    found: list[Escalation] = []
    for account, user in sorted(pairs):
        gained = after.access(account, user)
        if gained is None:
            continue
        had = before.access(account, user)
        assignment = f"assignment/{account}/{user}"
        address = assignment if assignment in after_specs else f"user/{account}/{user}"
        reason = blocked.get(account)
        deferred = reason is not None

        def add(kind: str, detail: str) -> None:
            found.append(Escalation(address, kind, account, user, detail, deferred))  # noqa: B023 - used at once

        if gained.platform_admin and not (had is not None and had.platform_admin):
            add("platform_admin", "gains platform administrator")
        new_admin = [
            (fl.product, fl.feature)
            for fl in gained.features
            if fl.level == _ADMINISTER and (had is None or had.level(fl.product, fl.feature) != _ADMINISTER)
        ]
        if new_admin:
            add("administer", "gains Administer on " + _by_product(new_admin))
        if had is not None and _timed(had.expiry) and not _timed(gained.expiry) and assignment in before_specs:
            add("permanent", f"becomes permanent (was {had.expiry})")
        if assignment in after_specs and assignment not in before_specs:
            add("new_access", _new_access_detail(account, assignment in lapsed, reason))
    return tuple(sorted(found, key=lambda e: (e.deferred, e.address, KINDS.index(e.kind))))


def _by_product(features: list[tuple[str, str]]) -> str:
    """``InsightIDR (Collector, InsightIDR Core); InsightConnect (Product)``."""
    grouped: dict[str, list[str]] = {}
    for product, feature in sorted(features):
        grouped.setdefault(product, []).append(feature)
    return "; ".join(f"{product} ({', '.join(names)})" for product, names in grouped.items())


def _timed(expiry: str | None) -> bool:
    return expiry is not None and expiry != lc.PERMANENT


def _new_access_detail(account: str, was_there: bool, reason: Reason | None) -> str:
    from accessplan.plan import Reason

    if reason is Reason.CUSTOMER_PENDING:
        return f"access to customer {account} once it approves the partner"
    if reason is Reason.CUSTOMER_REVOKED:
        return f"access to customer {account} again if it approves the partner after revoking"
    if was_there:
        return f"access to customer {account} again after its assignment expired"
    return f"new access to customer {account}"
