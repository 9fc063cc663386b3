"""The manifest as resources: ``{address: spec}``, the shape state keeps.

Everything downstream — the access engine, the planner, export — reads this one
representation, whether it came from the manifest (desired) or from state
(current). That is what lets a plan judge escalations and access impact on
effective access before and after, with one engine.

Specs are plain JSON-able dicts and are never changed in place: equal ones may
be one shared object.

Addresses (SPEC section 3): ``partner/<id>``, ``customer/<id>``,
``user/<account>/<email>``, ``assignment/<customer>/<email>``,
``group/<account>/<name>``, ``role/<account>/<name>``,
``logset/<account>/<name>``, ``log/<account>/<name>``. Every list in a spec is
sorted, so equal intent gives equal specs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accessplan.catalog import load_catalog
from accessplan.loader import Manifest
from accessplan.model import Account, CustomRole, Customer, LogRules
from accessplan.resolve import Resolved, licensed_products

Spec = dict[str, Any]
Resources = dict[str, Spec]

#: Resource kinds, parents first: the order creates follow (deletes go backwards).
KINDS = ("partner", "customer", "role", "logset", "log", "user", "assignment", "group")
KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}


def address(kind: str, *parts: str) -> str:
    return "/".join((kind, *parts))


def split_address(addr: str) -> tuple[str, str, str]:
    """``kind/account/name`` -> its three parts (``name`` may contain '/')."""
    parts = addr.split("/", 2)
    if len(parts) == 2:
        return parts[0], parts[1], ""
    return parts[0], parts[1], parts[2]


def _logs(rules: LogRules | None) -> Spec:
    if rules is None:
        return {"restrict": [], "select": []}
    return {"restrict": sorted(rules.restrict), "select": sorted(rules.select)}


def role_permissions(role: CustomRole) -> dict[str, str]:
    """A custom role's permissions, with ``extends`` applied (copy, then override)."""
    permissions: dict[str, str] = {}
    if role.extends:
        base = load_catalog().roles.get(role.extends)
        if base is not None:
            permissions.update(base.permissions)
    permissions.update(role.permissions)
    return dict(sorted(permissions.items()))


def _account_resources(account: Account, out: Resources, roles_used: set[str]) -> None:
    aid = account.id
    for user in account.users:
        out[address("user", aid, user.email)] = {
            "distribution_list": user.distribution_list,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "logs": _logs(user.logs),
            "platform_admin": user.platform_admin,
            "products": sorted(user.products),
            "roles": sorted(user.roles),
            "timezone": user.timezone,
        }
        roles_used.update(user.roles)
    for group in account.groups:
        out[address("group", aid, group.name)] = {
            "description": group.description,
            "logs": _logs(group.logs),
            "members": sorted(group.members),
            "products": sorted(group.products),
            "roles": sorted(group.roles),
        }
        roles_used.update(group.roles)
    for log_set in account.log_sets:
        out[address("logset", aid, log_set.name)] = {"logs": sorted(log_set.logs)}
        for log in log_set.logs:
            out[address("log", aid, log)] = {"log_set": log_set.name}
    for log in account.logs:
        out[address("log", aid, log)] = {"log_set": None}


def customer_spec(customer: Customer) -> Spec:
    return {
        "default_all_logs": customer.data_access.default_all_logs,
        "labels": dict(sorted(customer.labels.items())),
        "licensed": list(licensed_products(customer)),
        "name": customer.name,
        "poc": None
        if customer.poc is None
        else {
            "expires": customer.poc.expires.isoformat(),
            "first_user": customer.poc.first_user,
            "products": sorted(customer.poc.products),
        },
        "poc_licenses": sorted(
            ({"expires": lic.expires.isoformat(), "product": lic.product, "product_admin": lic.product_admin} for lic in customer.poc_licenses),
            key=lambda d: (d["product"], d["product_admin"]),
        ),
        "products": sorted(customer.products),
        "protect": customer.protect,
        "region": customer.region,
    }


def desired_resources(manifest: Manifest, resolved: Resolved, now: datetime | None = None) -> Resources:
    """Every resource the manifest declares, keyed by address, in sorted order.

    ``now`` only matters for POC licenses: ``resolved`` already reflects it, and
    ``licensed`` lists what is still licensed at ``now``.
    """
    out: Resources = {}
    partner = manifest.partner
    custom_roles = {role.name: role for role in manifest.roles}
    out[address("partner", partner.id)] = {
        "default_all_logs": partner.data_access.default_all_logs,
        "name": partner.name,
        "products": sorted(partner.products),
        "region": partner.region,
    }
    used: dict[str, set[str]] = {partner.id: set()}
    _account_resources(partner, out, used[partner.id])
    for customer in manifest.customers:
        spec = customer_spec(customer)
        if now is not None:
            spec["licensed"] = list(licensed_products(customer, now))
        out[address("customer", customer.id)] = spec
        used[customer.id] = set()
        _account_resources(customer, out, used[customer.id])
    # Most assignments come from one grant and are alike: equal specs share one
    # dict (specs are never changed in place), which saves time and memory.
    # Pairs merged from the same grants hold the very same field objects, so a
    # key of their identities finds the spec without hashing the values (the
    # expiry's hash is Python code); identical objects are equal values, and
    # ``resolved`` keeps them alive. Equal values in other objects meet by value.
    shared: dict[tuple[Any, ...], Spec] = {}
    same: dict[tuple[int | bool, ...], Spec] = {}
    for (cid, email), a in resolved.assignments.items():
        ids = (id(a.expiry), a.platform_admin, id(a.products), id(a.roles), id(a.select), id(a.restrict))
        spec = same.get(ids)
        if spec is None:
            key = (a.expiry, a.platform_admin, a.products, a.roles, a.select, a.restrict)
            spec = shared.get(key)
            if spec is None:
                spec = shared[key] = {
                    "expiry": a.expiry.as_spec(),
                    "logs": {"restrict": list(a.restrict), "select": list(a.select)},
                    "platform_admin": a.platform_admin,
                    "products": list(a.products),
                    "roles": list(a.roles),
                }
            same[ids] = spec
        out[f"assignment/{cid}/{email}"] = spec
        if a.roles:
            used[cid].update(a.roles)
    for account, names in used.items():
        for name in names:
            role = custom_roles.get(name)
            if role is not None:
                out[address("role", account, name)] = {
                    "extends": role.extends,
                    "permissions": role_permissions(role),
                    "product": role.product,
                }
    return dict(sorted(out.items()))
