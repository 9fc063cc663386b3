"""Grants -> assignments: one record per (customer, partner user).

A grant names users and customers (a list, ``"*"`` or a label selector, minus
``except_customers``) and expands to one assignment per pair. Where grants
overlap on a pair their products, roles and log rules are unioned; an omitted
admin flag or expiry takes the other grant's value, and explicit values that
differ are an :class:`Overlap` (``validate`` reports it). A POC's
``first_user`` counts as a permanent platform-admin grant; a POC license's
``product_admin`` gets the product with its admin role while the license lasts.

The records are plain slotted objects: a large MSSP has about 100,000 of them,
and validating each with pydantic would cost seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Literal

from accessplan.catalog import load_catalog
from accessplan.loader import Manifest
from accessplan.model import Customer, Grant, duration_hours

Pair = tuple[str, str]  # (customer id, user email)


@dataclass(frozen=True, slots=True)
class Expiry:
    """How long an assignment lasts: permanent, relative hours, or an absolute time."""

    hours: int | None = None
    until: datetime | None = None

    @property
    def permanent(self) -> bool:
        return self.hours is None and self.until is None

    def describe(self) -> str:
        if self.until is not None:
            return f"until {self.until.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        if self.hours is not None:
            return f"{self.hours // 24}d" if self.hours % 24 == 0 and self.hours >= 24 else f"{self.hours}h"
        return "permanent"

    def as_spec(self) -> str:
        """The expiry as the state's ``spec`` records it."""
        if self.until is not None:
            return self.until.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.hours is not None:
            return f"{self.hours}h"
        return "permanent"


@dataclass(frozen=True, slots=True)
class Source:
    """Why an assignment exists: a grant (by index), a POC's first user or a POC license."""

    kind: Literal["grant", "poc_first_user", "poc_license"]
    index: int = -1  # grant index, or poc_licenses index

    def describe(self, manifest: Manifest, customer: Customer | None = None) -> str:
        if self.kind == "grant":
            grant = manifest.grants[self.index]
            where = manifest.where(grant).short
            label = f" '{grant.description}'" if grant.description else ""
            return f"grant{label} at {where}"
        if self.kind == "poc_first_user":
            return "POC first user"
        return "POC license product administrator"


@dataclass(slots=True)
class Assignment:
    """A partner user's access to one customer, as the manifest desires it."""

    customer: str
    user: str
    platform_admin: bool = False
    expiry: Expiry = Expiry()
    products: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    restrict: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()

    @property
    def key(self) -> Pair:
        return (self.customer, self.user)


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two grants that give one pair different explicit values of ``field``."""

    pair: Pair
    field: str
    first: Source
    second: Source
    first_value: str
    second_value: str


@dataclass(slots=True)
class Resolved:
    assignments: dict[Pair, Assignment] = field(default_factory=dict)
    overlaps: list[Overlap] = field(default_factory=list)

    def for_customer(self, customer: str) -> list[Assignment]:
        return [a for (c, _), a in sorted(self.assignments.items()) if c == customer]


def license_active(expires: date, now: datetime | None) -> bool:
    """A license lasts through its ``expires`` day; ``now=None`` means nothing expired."""
    return now is None or now.astimezone(timezone.utc).date() <= expires


def licensed_products(customer: Customer, now: datetime | None = None) -> tuple[str, ...]:
    """What a customer licenses: its products, its POC products, live POC licenses."""
    products = set(customer.products)
    if customer.poc is not None and license_active(customer.poc.expires, now):
        products.update(customer.poc.products)
    for lic in customer.poc_licenses:
        if license_active(lic.expires, now):
            products.add(lic.product)
    return tuple(sorted(products))


def grant_customers(grant: Grant, customers: list[Customer], known: set[str] | None = None) -> list[str]:
    """Customer ids a grant reaches (unknown ids in an explicit list kept out)."""
    if grant.customers == "*":
        ids = [c.id for c in customers]
    elif isinstance(grant.customers, list):
        if known is None:
            known = {c.id for c in customers}
        ids = [c for c in grant.customers if c in known]
    else:
        wanted = grant.customers.labels.items()
        ids = [c.id for c in customers if all(c.labels.get(k) == v for k, v in wanted)]
    if not grant.except_customers:
        return ids
    excluded = set(grant.except_customers)
    return [c for c in ids if c not in excluded]


@dataclass(frozen=True, slots=True)
class _Part:
    """What one grant (or POC rule) contributes to a pair; lists pre-sorted."""

    source: Source
    admin: bool | None
    expiry: Expiry | None
    products: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    restrict: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Merged:
    """The merge of one combination of parts, shared by every pair that has it."""

    admin: bool
    expiry: Expiry
    products: tuple[str, ...]
    roles: tuple[str, ...]
    select: tuple[str, ...]
    restrict: tuple[str, ...]
    sources: tuple[Source, ...]
    conflicts: tuple[tuple[str, Source, Source, str, str], ...]


def _merge(parts: list[_Part]) -> _Merged:
    """Unions, and explicit values that must agree (each disagreement noted)."""
    admin: _Part | None = None
    expiry: _Part | None = None
    conflicts: list[tuple[str, Source, Source, str, str]] = []
    for p in parts:
        if p.admin is not None:
            if admin is None:
                admin = p
            elif admin.admin != p.admin:
                conflicts.append(("platform_admin", admin.source, p.source, str(admin.admin).lower(), str(p.admin).lower()))
        if p.expiry is not None:
            if expiry is None:
                expiry = p
            elif expiry.expiry != p.expiry:
                assert expiry.expiry is not None
                conflicts.append(("expiry", expiry.source, p.source, expiry.expiry.describe(), p.expiry.describe()))

    def union(attr: str) -> tuple[str, ...]:
        merged: tuple[str, ...] = getattr(parts[0], attr)
        for p in parts[1:]:
            values = getattr(p, attr)
            if values and values != merged:
                merged = tuple(sorted(set(merged).union(values)))
        return merged

    return _Merged(
        admin=bool(admin and admin.admin),
        expiry=(expiry.expiry if expiry else None) or Expiry(),
        products=union("products"),
        roles=union("roles"),
        select=union("select"),
        restrict=union("restrict"),
        sources=tuple(p.source for p in parts),
        conflicts=tuple(conflicts),
    )


def resolve(manifest: Manifest, now: datetime | None = None) -> Resolved:
    """Expand every grant; ``now`` decides which POC licenses still last."""
    result = Resolved()
    # customer -> user -> the parts reaching that pair, in grant order. Nested
    # rather than keyed by pair: the pairs come out sorted by sorting 2,000
    # customer ids and each customer's users, not 100,000 tuples.
    parts: dict[str, dict[str, list[_Part]]] = {}
    customers = manifest.customers
    known = {c.id for c in customers}
    for i, grant in enumerate(manifest.grants):
        expiry: Expiry | None = None
        if grant.until is not None:
            expiry = Expiry(until=grant.until)
        elif grant.duration is not None:
            expiry = Expiry(hours=duration_hours(grant.duration))
        logs = grant.logs
        part = _Part(
            Source("grant", i),
            grant.platform_admin,
            expiry,
            tuple(sorted(set(grant.products))),
            tuple(sorted(set(grant.roles))),
            tuple(sorted(set(logs.select))) if logs else (),
            tuple(sorted(set(logs.restrict))) if logs else (),
        )
        users = grant.users
        for customer in grant_customers(grant, customers, known):
            reached = parts.get(customer)
            if reached is None:
                reached = parts[customer] = {}
            for user in users:
                existing = reached.get(user)
                if existing is None:
                    reached[user] = [part]
                else:
                    existing.append(part)

    catalog = load_catalog()
    for customer in customers:
        if customer.poc is not None:
            parts.setdefault(customer.id, {}).setdefault(customer.poc.first_user, []).append(
                _Part(Source("poc_first_user"), True, Expiry())
            )
        for j, lic in enumerate(customer.poc_licenses):
            plist = parts.get(customer.id, {}).get(lic.product_admin)
            if plist is not None and license_active(lic.expires, now):
                product = catalog.product(lic.product)
                admin_role = product.admin_role if product else "Administrator"
                plist.append(_Part(Source("poc_license", j), None, None, (lic.product,), (admin_role,)))

    # Pairs reached by the same grants merge alike: merge each combination once.
    merged: dict[tuple[int, ...], _Merged] = {}
    assignments = result.assignments
    for cid in sorted(parts):
        reached = parts[cid]
        for email in sorted(reached):
            plist = reached[email]
            key = tuple(map(id, plist))
            m = merged.get(key)
            if m is None:
                m = merged[key] = _merge(plist)
            pair = (cid, email)
            assignments[pair] = Assignment(cid, email, m.admin, m.expiry, m.products, m.roles, m.select, m.restrict, m.sources)
            for conflict in m.conflicts:
                result.overlaps.append(Overlap(pair, *conflict))
    return result
