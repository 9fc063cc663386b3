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

The pass over the touched (account, user) pairs lives in
:mod:`accessplan.impact`, which computes the access impact from the same two
access records; this module says which differences are escalations. Every plan
format lists escalations first; ``apply`` refuses the ones that are not
deferred unless ``--allow-escalation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc

if TYPE_CHECKING:
    from accessplan.access_types import Access
    from accessplan.plan import Reason

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

    @property
    def label(self) -> str:
        """The detail without the customer's id, so that one escalation across many customers groups."""
        return self.detail.replace(f"customer {self.customer}", "the customer")


def escalations_of(
    account: str,
    user: str,
    had: Access | None,
    gained: Access,
    address: str,
    *,
    assigned_before: bool,
    assigned_after: bool,
    lapsed: bool,
    reason: Reason | None,
) -> list[Escalation]:
    """The escalations of one (account, user) moving from ``had`` to ``gained``.

    ``assigned_before``/``assigned_after``: whether a live assignment of the
    pair exists before and after the plan; ``lapsed``: whether state holds one
    that gives no access any more (expired, or a tombstone); ``reason``: why the
    account's changes are deferred, if they are.
    """
    deferred = reason is not None
    found: list[Escalation] = []
    if gained.platform_admin and not (had is not None and had.platform_admin):
        found.append(Escalation(address, "platform_admin", account, user, "gains platform administrator", deferred))
    new_admin = [
        (fl.product, fl.feature)
        for fl in gained.features
        if fl.level == _ADMINISTER and (had is None or had.level(fl.product, fl.feature) != _ADMINISTER)
    ]
    if new_admin:
        found.append(Escalation(address, "administer", account, user, "gains Administer on " + _by_product(new_admin), deferred))
    if had is not None and _timed(had.expiry) and not _timed(gained.expiry) and assigned_before:
        found.append(Escalation(address, "permanent", account, user, f"becomes permanent (was {had.expiry})", deferred))
    if assigned_after and not assigned_before:
        found.append(Escalation(address, "new_access", account, user, _new_access_detail(account, lapsed, reason), deferred))
    return found


def sort_key(escalation: Escalation) -> tuple[bool, str, int]:
    """Live before deferred, then by address, then in the order of :data:`KINDS`."""
    return (escalation.deferred, escalation.address, KINDS.index(escalation.kind))


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
