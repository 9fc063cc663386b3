"""Role arithmetic: what a combination of products, roles and groups gives (SPEC section 5).

A role applies to each effective product it is suitable for; a feature's level
is the lowest any applying role gives (least privilege), and levels that differ
are conflicts. InsightConnect is full access whatever the role; InsightVM
ignores platform roles. The engine calls this once per distinct combination,
not once per user, which is what keeps a 100,000-assignment MSSP fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from accessplan.access_types import Conflict, FeatureLevel, RoleSource, level_key
from accessplan.catalog import LEVELS, load_catalog


@dataclass(frozen=True, slots=True)
class RoleDef:
    products: frozenset[str]
    permissions: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Privileges:
    """What a combination of products and roles gives, shared by every user holding it."""

    products: tuple[str, ...]
    product_sources: Mapping[str, tuple[str | None, ...]]
    unlicensed: tuple[str, ...]
    features: tuple[FeatureLevel, ...]
    roles_ignored: tuple[str, ...]
    unknown_roles: tuple[str, ...]
    roles: tuple[RoleSource, ...]
    has_logs: bool
    #: (kind, product, feature, levels, result, roles, product_from) without account/subject
    conflicts: tuple[tuple[Any, ...], ...]


RoleRef = tuple[str, "RoleDef | None"]
GroupSig = tuple[str, tuple[str, ...], tuple[RoleRef, ...]]


def _feature_levels(
    product: str, entries: list[tuple[RoleSource, RoleDef]]
) -> dict[str, list[tuple[str, RoleSource]]]:
    """Feature -> every (level, source) the applying roles give it in ``product``."""
    features = load_catalog().products[product].features
    out: dict[str, list[tuple[str, RoleSource]]] = {}
    for source, role in entries:
        if product not in role.products:
            continue
        for feature, level in role.permissions:
            if feature in features:
                out.setdefault(feature, []).append((level, source))
    return out


def _differs(items: list[tuple[str, RoleSource]], same_group_ok: bool) -> bool:
    """Two entries with different levels (not both inside one group, for user conflicts)."""
    for i, (la, sa) in enumerate(items):
        for lb, sb in items[i + 1 :]:
            if la != lb and not (same_group_ok and sa.group is not None and sa.group == sb.group):
                return True
    return False


def privileges(licensed: frozenset[str], direct_products: tuple[str, ...], direct_roles: tuple[RoleRef, ...],
                groups: tuple[GroupSig, ...]) -> Privileges:
    catalog = load_catalog()
    sources: dict[str, list[str | None]] = {}
    for p in direct_products:
        sources.setdefault(p, []).append(None)
    entries: list[tuple[RoleSource, RoleDef]] = []
    unknown: set[str] = set()
    all_roles: list[RoleSource] = []
    for name, role in direct_roles:
        all_roles.append(RoleSource(name, None))
        if role is None:
            unknown.add(name)
        else:
            entries.append((RoleSource(name, None), role))
    for gname, gproducts, groles in groups:
        for p in gproducts:
            sources.setdefault(p, []).append(gname)
        for name, role in groles:
            all_roles.append(RoleSource(name, gname))
            if role is None:
                unknown.add(name)
            else:
                entries.append((RoleSource(name, gname), role))
    products = tuple(sorted(p for p in sources if p in licensed and p in catalog.products))
    features: list[FeatureLevel] = []
    ignored: list[str] = []
    conflicts: list[tuple[Any, ...]] = []
    for p in products:
        product = catalog.products[p]
        if product.full_access:
            origin = min(sources[p], key=lambda g: (g is not None, g or ""))
            features.append(FeatureLevel(p, "Product", LEVELS[-1], RoleSource(p, origin, "product"), ()))
            continue
        if product.roles_ignored:
            ignored.append(p)
            continue
        levels = _feature_levels(p, entries)
        for feature in sorted(levels):
            items = sorted(levels[feature], key=level_key)
            low = items[0][0]
            lowered = tuple(it for it in items if it[0] != low)
            features.append(FeatureLevel(p, feature, low, items[0][1], lowered))
            if lowered and _differs(items, same_group_ok=True):
                conflicts.append(("user", p, feature, tuple(items), low, (), ()))
        core = product.core_feature
        if core is not None and core not in levels:
            applying = tuple(sorted({src for src, role in entries if p in role.products}))
            origin_groups = tuple(sorted(set(sources[p]), key=lambda g: (g is not None, g or "")))
            conflicts.append(("insufficient", p, core, (), None, applying, origin_groups))
    return Privileges(
        products=products,
        product_sources=MappingProxyType({p: tuple(sorted(set(s), key=lambda g: (g is not None, g or ""))) for p, s in sorted(sources.items())}),
        unlicensed=tuple(sorted(p for p in sources if p not in products)),
        features=tuple(features),
        roles_ignored=tuple(ignored),
        unknown_roles=tuple(sorted(unknown)),
        roles=tuple(sorted(set(all_roles))),
        has_logs=any(catalog.products[p].has_logs for p in products),
        conflicts=tuple(conflicts),
    )


def group_conflicts(account: str, group: str, products: set[str], roles: tuple[RoleRef, ...]) -> list[Conflict]:
    """Two roles inside one group giving one feature different levels (a ``group`` conflict)."""
    catalog = load_catalog()
    entries = [(RoleSource(name, group), role) for name, role in roles if role is not None]
    out: list[Conflict] = []
    for p in sorted(products):
        product = catalog.products.get(p)
        if product is None or product.full_access or product.roles_ignored:
            continue
        for feature, items in sorted(_feature_levels(p, entries).items()):
            items.sort(key=level_key)
            if len({lvl for lvl, _ in items}) > 1:
                out.append(Conflict("group", account, group, p, feature, tuple(items), items[0][0]))
    return out
