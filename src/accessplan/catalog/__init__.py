"""The built-in catalog: products, regions, access levels and Rapid7 managed roles.

The catalog is *data* (``catalog.json``, shipped inside the package) rather than code,
so that a change in the platform's product line-up is a data edit that the loader
re-validates, not a code change. Every module that needs to know what a product, a
feature, a level or a managed role is asks this module, so the facts live in one place.

The loader checks the data's internal consistency when it loads it: a catalog that
contradicts itself would otherwise surface much later as a confusing validation or
effective-access result for a user's manifest.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "LEVELS",
    "Catalog",
    "CatalogError",
    "ManagedRole",
    "Product",
    "level_rank",
    "load_catalog",
]

#: Access levels, lowest first. Least privilege (SPEC section 5) compares levels by
#: their position in this tuple, so the order is significant.
LEVELS: tuple[str, ...] = ("View Only", "View and Change", "Administer")

_RANK: Mapping[str, int] = MappingProxyType({level: i for i, level in enumerate(LEVELS)})

_DATA_FILE = "catalog.json"


def level_rank(level: str) -> int:
    """Return the position of ``level`` in :data:`LEVELS` (0 is the lowest).

    Callers compare ranks rather than strings so that "lowest level wins" is a plain
    ``min``. An unknown level raises :class:`KeyError` because it is a programming or
    validation error that must not silently rank as anything.
    """
    return _RANK[level]


class CatalogError(Exception):
    """The built-in catalog data is malformed or inconsistent.

    Raised only while loading; the message names the offending product, role or
    feature so that whoever edited ``catalog.json`` can find the mistake.
    """


@dataclass(frozen=True, slots=True)
class Product:
    """A licensable Insight product and the facts other modules branch on.

    The boolean flags exist so that callers test a property ("does this product have
    logs?") instead of comparing product names, which keeps product-specific rules in
    the data.
    """

    name: str
    #: Short code accepted in manifests in place of the name, or ``None``.
    code: str | None
    #: Feature -> allowed levels, in :data:`LEVELS` order.
    features: Mapping[str, tuple[str, ...]] = field(hash=False)
    #: The feature a user needs at View Only or above to get value from the product
    #: (the ``insufficient`` conflict), or ``None`` when the product has no such check.
    core_feature: str | None
    #: Customers may define custom roles for this product.
    custom_roles: bool
    #: Accounts licensing this product hold logs and log sets.
    has_logs: bool
    #: Every user assigned the product gets full access whatever the role.
    full_access: bool
    #: Platform roles are ignored for this product (it has its own role system).
    roles_ignored: bool
    #: The product may be licensed to a proof-of-concept prospect.
    poc_allowed: bool
    #: The managed role that makes a user the product's administrator.
    admin_role: str


@dataclass(frozen=True, slots=True)
class ManagedRole:
    """A Rapid7 managed role: the products it suits and the level it gives each feature.

    A role gives nothing to a feature it does not name (SPEC section 5), so
    ``permissions`` lists only the features the role actually grants.
    """

    name: str
    products: tuple[str, ...]
    permissions: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whole built-in catalog, immutable so that one cached instance can be shared."""

    products: Mapping[str, Product] = field(hash=False)
    regions: tuple[str, ...]
    roles: Mapping[str, ManagedRole] = field(hash=False)
    _by_code: Mapping[str, Product] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # Index short codes once: product() is called for every product reference in a
        # manifest, so it should not scan the products each time.
        by_code = {p.code: p for p in self.products.values() if p.code is not None}
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    def product(self, name_or_code: str) -> Product | None:
        """Look a product up by canonical name or short code (exact case).

        Returns ``None`` rather than raising so that validation can collect the problem
        and offer suggestions from :meth:`product_names`.
        """
        found = self.products.get(name_or_code)
        if found is None:
            found = self._by_code.get(name_or_code)
        return found

    def product_names(self) -> tuple[str, ...]:
        """Every spelling :meth:`product` accepts: canonical names, then short codes.

        Meant as the candidate list for "did you mean" suggestions.
        """
        return tuple(self.products) + tuple(self._by_code)


# --------------------------------------------------------------------------- loading


@functools.cache
def load_catalog() -> Catalog:
    """Load and check the catalog shipped with the package.

    Cached because the data never changes while the process runs and every command
    needs it; the result is immutable, so sharing it is safe.
    """
    text = resources.files(__name__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return _build_catalog(_parse(text))


def _parse(text: str) -> dict[str, Any]:
    """Parse catalog JSON, rejecting duplicate keys.

    ``json`` keeps the last of two equal keys silently; in a catalog keyed by product
    and role names that would hide a duplicated entry, so it is an error here.
    """

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise CatalogError(f"duplicate key {key!r}")
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError("top level must be an object")
    return data


_TOP_KEYS = frozenset({"levels", "products", "regions", "roles"})
_PRODUCT_KEYS = frozenset(
    {
        "code",
        "features",
        "core_feature",
        "custom_roles",
        "has_logs",
        "full_access",
        "roles_ignored",
        "poc_allowed",
        "admin_role",
    }
)
_PRODUCT_FLAGS = ("custom_roles", "has_logs", "full_access", "roles_ignored", "poc_allowed")
_ROLE_KEYS = frozenset({"products", "permissions"})


def _check_keys(obj: Any, expected: frozenset[str], where: str) -> dict[str, Any]:
    """Require ``obj`` to be an object with exactly the ``expected`` keys.

    Unknown keys are rejected too: a misspelt flag would otherwise be ignored and the
    product would silently get the wrong behaviour.
    """
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: must be an object")
    missing = sorted(expected - obj.keys())
    if missing:
        raise CatalogError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")
    unknown = sorted(obj.keys() - expected)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    return obj


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: must be a list of strings")
    if len(set(value)) != len(value):
        raise CatalogError(f"{where}: contains duplicates")
    return value


def _check_level(level: Any, where: str) -> str:
    if level not in _RANK:
        raise CatalogError(f"{where}: unknown level {level!r} (levels: {', '.join(LEVELS)})")
    return str(level)


def _build_product(name: str, raw: Any) -> Product:
    where = f"product {name!r}"
    entry = _check_keys(raw, _PRODUCT_KEYS, where)

    code = entry["code"]
    if code is not None and (not isinstance(code, str) or not code):
        raise CatalogError(f"{where}: code must be a non-empty string or null")

    raw_features = entry["features"]
    if not isinstance(raw_features, dict) or not raw_features:
        raise CatalogError(f"{where}: features must be a non-empty object")
    features: dict[str, tuple[str, ...]] = {}
    for feature, raw_levels in raw_features.items():
        fwhere = f"{where}, feature {feature!r}"
        levels = _str_list(raw_levels, fwhere)
        if not levels:
            raise CatalogError(f"{fwhere}: allows no level")
        for level in levels:
            _check_level(level, fwhere)
        if levels != sorted(levels, key=level_rank):
            raise CatalogError(f"{fwhere}: levels must be listed lowest first")
        features[feature] = tuple(levels)

    core = entry["core_feature"]
    if core is not None and core not in features:
        raise CatalogError(f"{where}: core feature {core!r} is not a feature of the product")

    for flag in _PRODUCT_FLAGS:
        if not isinstance(entry[flag], bool):
            raise CatalogError(f"{where}: {flag} must be true or false")

    admin_role = entry["admin_role"]
    if not isinstance(admin_role, str):
        raise CatalogError(f"{where}: admin_role must be a string")

    return Product(
        name=name,
        code=code,
        features=MappingProxyType(dict(sorted(features.items()))),
        core_feature=core,
        custom_roles=entry["custom_roles"],
        has_logs=entry["has_logs"],
        full_access=entry["full_access"],
        roles_ignored=entry["roles_ignored"],
        poc_allowed=entry["poc_allowed"],
        admin_role=admin_role,
    )


def _build_role(name: str, raw: Any, products: Mapping[str, Product]) -> ManagedRole:
    where = f"role {name!r}"
    entry = _check_keys(raw, _ROLE_KEYS, where)

    suitable = _str_list(entry["products"], f"{where}, products")
    if not suitable:
        raise CatalogError(f"{where}: is suitable for no product")
    for product in suitable:
        if product not in products:
            raise CatalogError(f"{where}: names unknown product {product!r}")

    raw_permissions = entry["permissions"]
    if not isinstance(raw_permissions, dict):
        raise CatalogError(f"{where}: permissions must be an object")
    permissions: dict[str, str] = {}
    for feature, level in raw_permissions.items():
        fwhere = f"{where}, feature {feature!r}"
        _check_level(level, fwhere)
        # A role applies to each of its products independently (SPEC section 5), so
        # every permission must make sense in every one of them.
        for product in suitable:
            allowed = products[product].features.get(feature)
            if allowed is None:
                raise CatalogError(
                    f"{fwhere}: not a feature of product {product!r}, "
                    "which the role is suitable for"
                )
            if level not in allowed:
                raise CatalogError(
                    f"{fwhere}: level {level!r} is not allowed for this feature in "
                    f"product {product!r} (allowed: {', '.join(allowed)})"
                )
        permissions[feature] = level

    return ManagedRole(
        name=name,
        products=tuple(suitable),
        permissions=MappingProxyType(dict(sorted(permissions.items()))),
    )


def _build_catalog(data: dict[str, Any]) -> Catalog:
    """Turn parsed catalog data into a checked :class:`Catalog`.

    Separate from :func:`load_catalog` so the checks can be exercised on deliberately
    broken copies of the real data. Raises :class:`CatalogError` on the first problem.
    """
    top = _check_keys(data, _TOP_KEYS, "catalog")

    levels = top["levels"]
    if not isinstance(levels, list) or tuple(levels) != LEVELS:
        raise CatalogError(f"levels must be {list(LEVELS)!r}, lowest first")

    regions = _str_list(top["regions"], "regions")
    if not regions:
        raise CatalogError("regions: must not be empty")

    raw_products = top["products"]
    if not isinstance(raw_products, dict) or not raw_products:
        raise CatalogError("products: must be a non-empty object")
    products = {name: _build_product(name, raw) for name, raw in sorted(raw_products.items())}

    # Names and codes share one look-up space in Catalog.product(), so a code may not
    # repeat another code or shadow a product name.
    seen: dict[str, str] = {}
    for product in products.values():
        if product.code is None:
            continue
        if product.code in products:
            raise CatalogError(
                f"product {product.name!r}: code {product.code!r} is also a product name"
            )
        if product.code in seen:
            raise CatalogError(
                f"product {product.name!r}: duplicate code {product.code!r} "
                f"(also used by {seen[product.code]!r})"
            )
        seen[product.code] = product.name

    raw_roles = top["roles"]
    if not isinstance(raw_roles, dict):
        raise CatalogError("roles: must be an object")
    roles = {name: _build_role(name, raw, products) for name, raw in sorted(raw_roles.items())}

    for product in products.values():
        admin = roles.get(product.admin_role)
        if admin is None:
            raise CatalogError(
                f"product {product.name!r}: admin_role {product.admin_role!r} "
                "is not a managed role"
            )
        if product.name not in admin.products:
            raise CatalogError(
                f"product {product.name!r}: admin_role {product.admin_role!r} "
                "is not suitable for the product"
            )

    return Catalog(
        products=MappingProxyType(products),
        regions=tuple(regions),
        roles=MappingProxyType(roles),
    )
