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


def grant_customers(grant: Grant, customers: list[Customer]) -> list[str]:
    """Customer ids a grant reaches (unknown ids in an explicit list kept out)."""
    known = {c.id for c in customers}
    if grant.customers == "*":
        ids = [c.id for c in customers]
    elif isinstance(grant.customers, list):
        ids = [c for c in grant.customers if c in known]
    else:
        wanted = grant.customers.labels.items()
        ids = [c.id for c in customers if all(c.labels.get(k) == v for k, v in wanted)]
    excluded = set(grant.except_customers)
    return [c for c in ids if c not in excluded]


class _Builder:
    """Accumulates one pair's assignment across grants, noting explicit values."""

    __slots__ = ("admin", "admin_src", "expiry", "expiry_src", "products", "roles", "select", "restrict", "sources")

    def __init__(self) -> None:
        self.admin: bool | None = None
        self.admin_src: Source | None = None
        self.expiry: Expiry | None = None
        self.expiry_src: Source | None = None
        self.products: set[str] = set()
        self.roles: set[str] = set()
        self.select: set[str] = set()
        self.restrict: set[str] = set()
        self.sources: list[Source] = []


def resolve(manifest: Manifest, now: datetime | None = None) -> Resolved:
    """Expand every grant; ``now`` decides which POC licenses still last."""
    result = Resolved()
    builders: dict[Pair, _Builder] = {}
    customers = manifest.customers

    def add(pair: Pair, source: Source, admin: bool | None, expiry: Expiry | None,
            products: tuple[str, ...] = (), roles: tuple[str, ...] = (),
            select: tuple[str, ...] = (), restrict: tuple[str, ...] = ()) -> None:
        b = builders.get(pair)
        if b is None:
            b = builders[pair] = _Builder()
        if admin is not None:
            if b.admin is not None and b.admin != admin and b.admin_src is not None:
                result.overlaps.append(Overlap(pair, "platform_admin", b.admin_src, source, str(b.admin).lower(), str(admin).lower()))
            elif b.admin is None:
                b.admin, b.admin_src = admin, source
        if expiry is not None:
            if b.expiry is not None and b.expiry != expiry and b.expiry_src is not None:
                result.overlaps.append(Overlap(pair, "expiry", b.expiry_src, source, b.expiry.describe(), expiry.describe()))
            elif b.expiry is None:
                b.expiry, b.expiry_src = expiry, source
        b.products.update(products)
        b.roles.update(roles)
        b.select.update(select)
        b.restrict.update(restrict)
        b.sources.append(source)

    catalog = load_catalog()
    for i, grant in enumerate(manifest.grants):
        source = Source("grant", i)
        expiry: Expiry | None = None
        if grant.until is not None:
            expiry = Expiry(until=grant.until)
        elif grant.duration is not None:
            expiry = Expiry(hours=duration_hours(grant.duration))
        products = tuple(grant.products)
        roles = tuple(grant.roles)
        select = tuple(grant.logs.select) if grant.logs else ()
        restrict = tuple(grant.logs.restrict) if grant.logs else ()
        targets = grant_customers(grant, customers)
        for user in grant.users:
            for customer in targets:
                add((customer, user), source, grant.platform_admin, expiry, products, roles, select, restrict)

    for customer in customers:
        if customer.poc is not None:
            add((customer.id, customer.poc.first_user), Source("poc_first_user"), True, Expiry())
        for j, lic in enumerate(customer.poc_licenses):
            pair = (customer.id, lic.product_admin)
            if pair in builders and license_active(lic.expires, now):
                product = catalog.product(lic.product)
                admin_role = product.admin_role if product else "Administrator"
                add(pair, Source("poc_license", j), None, None, (lic.product,), (admin_role,))

    for pair, b in builders.items():
        result.assignments[pair] = Assignment(
            customer=pair[0],
            user=pair[1],
            platform_admin=bool(b.admin),
            expiry=b.expiry or Expiry(),
            products=tuple(sorted(b.products)),
            roles=tuple(sorted(b.roles)),
            select=tuple(sorted(b.select)),
            restrict=tuple(sorted(b.restrict)),
            sources=tuple(b.sources),
        )
    result.assignments = dict(sorted(result.assignments.items()))
    return result
