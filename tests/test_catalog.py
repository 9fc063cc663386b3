"""Tests for the built-in catalog (SPEC section 7) and its consistency checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from accessplan.catalog import (
    LEVELS,
    Catalog,
    CatalogError,
    ManagedRole,
    Product,
    _build_catalog,
    _parse,
    level_rank,
    load_catalog,
)

VO, VC, A = "View Only", "View and Change", "Administer"
ALL = (VO, VC, A)
SHARED = ("InsightVM", "InsightConnect", "tCell", "Rapid7 Services")


def _raw_text() -> str:
    return resources.files("accessplan.catalog").joinpath("catalog.json").read_text("utf-8")


@pytest.fixture()
def data() -> dict[str, Any]:
    """A fresh, mutable copy of the real catalog data."""
    return copy.deepcopy(json.loads(_raw_text()))


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


# ------------------------------------------------------------------ loading, levels


def test_loads_and_is_cached(cat: Catalog) -> None:
    assert isinstance(cat, Catalog)
    assert load_catalog() is cat


def test_json_is_sorted_and_indented() -> None:
    text = _raw_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_levels() -> None:
    assert LEVELS == (VO, VC, A)
    assert [level_rank(x) for x in LEVELS] == [0, 1, 2]
    with pytest.raises(KeyError):
        level_rank("Admin")
    with pytest.raises(KeyError):
        level_rank("view only")


def test_regions(cat: Catalog) -> None:
    assert cat.regions == ("us", "us2", "us3", "eu", "ca", "au", "ap", "aps2", "me1")


def test_catalog_is_immutable(cat: Catalog) -> None:
    with pytest.raises(TypeError):
        cat.products["X"] = cat.products["tCell"]  # type: ignore[index]
    with pytest.raises(TypeError):
        cat.products["InsightIDR"].features["X"] = ALL  # type: ignore[index]
    with pytest.raises(TypeError):
        cat.roles["Administrator"].permissions["Product"] = VO  # type: ignore[index]
    with pytest.raises(AttributeError):
        cat.products["tCell"].code = "TC"  # type: ignore[misc]
    hash(cat.products["tCell"])
    hash(cat.roles["Administrator"])


# ------------------------------------------------------------------------ products


def test_product_names_and_codes(cat: Catalog) -> None:
    assert tuple(cat.products) == tuple(sorted(cat.products))
    assert set(cat.products) == {
        "InsightIDR",
        "InsightVM",
        "InsightConnect",
        "InsightAppSec",
        "InsightOps",
        "tCell",
        "Rapid7 Services",
    }
    codes = {name: p.code for name, p in cat.products.items()}
    assert codes == {
        "InsightIDR": "IDR",
        "InsightVM": "IVM",
        "InsightConnect": "ICON",
        "InsightAppSec": "AS",
        "InsightOps": "OPS",
        "tCell": None,
        "Rapid7 Services": None,
    }
    for name, product in cat.products.items():
        assert isinstance(product, Product)
        assert product.name == name


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("IDR", "InsightIDR"),
        ("IVM", "InsightVM"),
        ("ICON", "InsightConnect"),
        ("AS", "InsightAppSec"),
        ("OPS", "InsightOps"),
        ("InsightIDR", "InsightIDR"),
        ("tCell", "tCell"),
        ("Rapid7 Services", "Rapid7 Services"),
    ],
)
def test_product_lookup(cat: Catalog, key: str, name: str) -> None:
    found = cat.product(key)
    assert found is not None
    assert found.name == name


@pytest.mark.parametrize("key", ["idr", "insightidr", "TCELL", "Rapid7", "", "Administrator"])
def test_product_lookup_is_exact(cat: Catalog, key: str) -> None:
    assert cat.product(key) is None


def test_product_names_for_suggestions(cat: Catalog) -> None:
    names = cat.product_names()
    assert set(names) == set(cat.products) | {"IDR", "IVM", "ICON", "AS", "OPS"}
    assert len(names) == len(set(names))
    assert all(cat.product(n) is not None for n in names)


def test_insightidr_features(cat: Catalog) -> None:
    f = cat.products["InsightIDR"].features
    assert dict(f) == {
        "InsightIDR Core": ALL,
        "Collector": (VO, A),
        "Log Search Dashboards": ALL,
        "Log Management and Querying": ALL,
        "Detection and Response Dashboards": ALL,
        "InsightOps Log Archiving": ALL,
        "InsightOps Log Usage": (VO,),
    }


def test_insightops_features(cat: Catalog) -> None:
    assert dict(cat.products["InsightOps"].features) == {
        "InsightOps Core": ALL,
        "Log Management and Querying": ALL,
        "InsightOps Log Archiving": ALL,
        "InsightOps Log Usage": (VO,),
    }


def test_insightappsec_features(cat: Catalog) -> None:
    assert dict(cat.products["InsightAppSec"].features) == {
        "Apps": ALL,
        "Scans": ALL,
        "Vulnerabilities": ALL,
    }


@pytest.mark.parametrize("name", SHARED)
def test_shared_role_product_features(cat: Catalog, name: str) -> None:
    assert dict(cat.products[name].features) == {"Product": ALL}


def test_allowed_levels_in_level_order(cat: Catalog) -> None:
    for product in cat.products.values():
        for levels in product.features.values():
            assert list(levels) == sorted(levels, key=level_rank)


def test_core_features(cat: Catalog) -> None:
    core = {name: p.core_feature for name, p in cat.products.items()}
    assert core == {
        "InsightIDR": "InsightIDR Core",
        "InsightOps": "InsightOps Core",
        "InsightAppSec": "Apps",
        "tCell": "Product",
        "Rapid7 Services": "Product",
        "InsightConnect": None,
        "InsightVM": None,
    }


def _with_flag(cat: Catalog, flag: str) -> set[str]:
    return {name for name, p in cat.products.items() if getattr(p, flag)}


def test_flags(cat: Catalog) -> None:
    assert _with_flag(cat, "custom_roles") == {"InsightIDR", "InsightAppSec", "InsightOps"}
    assert _with_flag(cat, "has_logs") == {"InsightIDR", "InsightOps"}
    assert _with_flag(cat, "full_access") == {"InsightConnect"}
    assert _with_flag(cat, "roles_ignored") == {"InsightVM"}
    assert _with_flag(cat, "poc_allowed") == {"InsightIDR", "InsightConnect"}


def test_admin_roles(cat: Catalog) -> None:
    admin = {name: p.admin_role for name, p in cat.products.items()}
    assert admin == {
        "InsightIDR": "InsightIDR Admin",
        "InsightOps": "InsightOps Admin",
        "InsightAppSec": "InsightAppSec Admin",
        "InsightVM": "Administrator",
        "InsightConnect": "Administrator",
        "tCell": "Administrator",
        "Rapid7 Services": "Administrator",
    }


# --------------------------------------------------------------------------- roles

EXPECTED_ROLES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "Administrator": (SHARED, {"Product": A}),
    "View and Change": (SHARED, {"Product": VC}),
    "View Only": (SHARED, {"Product": VO}),
    "InsightIDR Admin": (
        ("InsightIDR",),
        {"InsightIDR Core": A, "Collector": A, "Detection and Response Dashboards": A},
    ),
    "InsightIDR Analyst": (
        ("InsightIDR",),
        {"InsightIDR Core": VC, "Detection and Response Dashboards": VC},
    ),
    "InsightIDR Viewer": (
        ("InsightIDR",),
        {"InsightIDR Core": VO, "Detection and Response Dashboards": VO},
    ),
    "Log Search Admin": (
        ("InsightIDR", "InsightOps"),
        {
            "Log Management and Querying": A,
            "InsightOps Log Archiving": A,
            "InsightOps Log Usage": VO,
        },
    ),
    "Log Search View and Change": (
        ("InsightIDR", "InsightOps"),
        {
            "Log Management and Querying": VC,
            "InsightOps Log Archiving": VC,
            "InsightOps Log Usage": VO,
        },
    ),
    "Log Search View Only": (
        ("InsightIDR", "InsightOps"),
        {
            "Log Management and Querying": VO,
            "InsightOps Log Archiving": VO,
            "InsightOps Log Usage": VO,
        },
    ),
    "InsightOps Admin": (("InsightOps",), {"InsightOps Core": A}),
    "InsightOps View and Change": (("InsightOps",), {"InsightOps Core": VC}),
    "InsightOps View Only": (("InsightOps",), {"InsightOps Core": VO}),
    "InsightAppSec Admin": (
        ("InsightAppSec",),
        {"Apps": A, "Scans": A, "Vulnerabilities": A},
    ),
    "InsightAppSec ReadWrite": (
        ("InsightAppSec",),
        {"Apps": VC, "Scans": VC, "Vulnerabilities": VC},
    ),
    "InsightAppSec ReadOnly": (
        ("InsightAppSec",),
        {"Apps": VO, "Scans": VO, "Vulnerabilities": VO},
    ),
    "App Owner": (("InsightAppSec",), {"Apps": A, "Scans": VO, "Vulnerabilities": VO}),
    "Scan Manager": (("InsightAppSec",), {"Scans": A, "Apps": VO}),
    "Vulnerability Remediator": (("InsightAppSec",), {"Vulnerabilities": VC, "Apps": VO}),
}


def test_role_set(cat: Catalog) -> None:
    assert set(cat.roles) == set(EXPECTED_ROLES)
    assert tuple(cat.roles) == tuple(sorted(cat.roles))


@pytest.mark.parametrize("name", sorted(EXPECTED_ROLES))
def test_role(cat: Catalog, name: str) -> None:
    role = cat.roles[name]
    products, permissions = EXPECTED_ROLES[name]
    assert isinstance(role, ManagedRole)
    assert role.name == name
    assert set(role.products) == set(products)
    assert len(role.products) == len(products)
    assert dict(role.permissions) == permissions


# ------------------------------------------------------------- consistency checks


def test_real_data_builds(data: dict[str, Any]) -> None:
    assert _build_catalog(data) == load_catalog()


Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[str, ...], value: Any) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return apply


def _delete(path: tuple[str, ...]) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]

    return apply


P, R = "products", "roles"

BROKEN: list[tuple[str, Mutation, str]] = [
    # unknown levels
    (
        "unknown level in feature",
        _set((P, "InsightIDR", "features", "Collector"), [VO, "Admin"]),
        "unknown level 'Admin'",
    ),
    (
        "unknown level in role",
        _set((R, "InsightIDR Analyst", "permissions", "InsightIDR Core"), "Read"),
        "unknown level 'Read'",
    ),
    ("wrong levels list", _set(("levels",), [A, VC, VO]), "levels must be"),
    (
        "feature levels out of order",
        _set((P, "tCell", "features", "Product"), [A, VO]),
        "lowest first",
    ),
    # roles naming products
    (
        "role names unknown product",
        _set((R, "Administrator", "products"), ["InsightVM", "Nexpose"]),
        "unknown product 'Nexpose'",
    ),
    (
        "role names product by code",
        _set((R, "InsightIDR Admin", "products"), ["IDR"]),
        "unknown product 'IDR'",
    ),
    ("role suits no product", _set((R, "Scan Manager", "products"), []), "no product"),
    # permissions on features not in every suitable product
    (
        "permission on feature missing from one product",
        _set((R, "Log Search Admin", "permissions", "Log Search Dashboards"), VO),
        "not a feature of product 'InsightOps'",
    ),
    (
        "permission on feature of another product",
        _set((R, "InsightOps Admin", "permissions", "Apps"), A),
        "not a feature of product 'InsightOps'",
    ),
    (
        "feature removed from a product still used by a role",
        _delete((P, "InsightOps", "features", "InsightOps Log Archiving")),
        "'InsightOps Log Archiving': not a feature of product 'InsightOps'",
    ),
    # level not allowed for the feature
    (
        "level not allowed for feature",
        _set((R, "InsightIDR Analyst", "permissions", "Collector"), VC),
        "level 'View and Change' is not allowed",
    ),
    (
        "level allowed in one product but not another",
        _set((P, "InsightOps", "features", "Log Management and Querying"), [VO]),
        "product 'InsightOps'",
    ),
    # core feature
    (
        "core feature not a feature",
        _set((P, "InsightAppSec", "core_feature"), "Product"),
        "core feature 'Product' is not a feature",
    ),
    # codes
    (
        "duplicate code",
        _set((P, "InsightOps", "code"), "IDR"),
        "duplicate code 'IDR'",
    ),
    (
        "code equal to a product name",
        _set((P, "InsightVM", "code"), "tCell"),
        "code 'tCell' is also a product name",
    ),
    # admin role
    (
        "admin role not suitable",
        _set((P, "InsightOps", "admin_role"), "InsightIDR Admin"),
        "admin_role 'InsightIDR Admin' is not suitable for the product",
    ),
    (
        "admin role unknown",
        _set((P, "tCell", "admin_role"), "tCell Admin"),
        "admin_role 'tCell Admin' is not a managed role",
    ),
    # structure
    (
        "misspelt flag",
        _set((P, "InsightVM", "roles_ignore"), True),
        "unknown key(s) 'roles_ignore'",
    ),
    ("missing flag", _delete((P, "InsightVM", "has_logs")), "missing key(s) 'has_logs'"),
    ("flag not boolean", _set((P, "InsightVM", "has_logs"), "no"), "has_logs must be"),
    ("duplicate region", _set(("regions",), ["us", "eu", "us"]), "duplicates"),
]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [pytest.param(m, msg, id=label) for label, m, msg in BROKEN],
)
def test_consistency_checks_fire(
    data: dict[str, Any], mutate: Mutation, message: str
) -> None:
    mutate(data)
    with pytest.raises(CatalogError) as info:
        _build_catalog(data)
    assert message in str(info.value)


def test_parse_rejects_duplicate_keys() -> None:
    text = '{"products": {"tCell": {}, "tCell": {}}}'
    with pytest.raises(CatalogError, match="duplicate key 'tCell'"):
        _parse(text)


def test_parse_rejects_invalid_json() -> None:
    with pytest.raises(CatalogError, match="invalid JSON"):
        _parse("{")
