"""The JSON Schema of one manifest file, for editors (``accessplan schema``).

It is generated from :class:`~accessplan.model.ManifestFile`, so it cannot
drift from what the loader accepts, and then refined with what pydantic cannot
see through our validators: the catalog's products, regions and levels as
``enum`` (editors complete them), and the patterns of ids, emails and
durations. Every top-level key is optional, so a file holding one customer
checks on its own; rules across files are ``validate``'s job.

The checked-in copy, ``schemas/accessplan.schema.json``, is this module's
output; a test fails when the two differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from accessplan.catalog import LEVELS, load_catalog
from accessplan.model import DURATION_RE, EMAIL_RE, SLUG_RE, ManifestFile

SCHEMA_ID = "urn:accessplan:schema:manifest-file:1"

Node = dict[str, Any]

_TOP_DESCRIPTIONS = {
    "version": "Manifest format version; required (as 1) in the file holding 'partner'.",
    "partner": "The MSSP's own primary account and its analysts; exactly once per manifest.",
    "roles": "Custom roles (InsightIDR, InsightAppSec, InsightOps), usable in any account licensing the product.",
    "customers": "Managed customer accounts, including POC prospects.",
    "grants": "Partner users -> customers: each grant expands to one assignment per (user, customer).",
    "policy": "Access invariants checked by validate, plan and apply; at most once per manifest.",
    "tests": "Access assertions run by 'accessplan test'.",
}


def _branch(node: Node) -> Node:
    """The non-null member of an optional field (``anyOf [X, null]``), else the node."""
    for member in node.get("anyOf", ()):
        if member.get("type") != "null":
            return member  # type: ignore[no-any-return]
    return node


def _items(node: Node) -> Node:
    return _branch(node)["items"]  # type: ignore[no-any-return]


def _set(**extra: Any) -> Callable[[Node], None]:
    def apply(node: Node) -> None:
        _branch(node).update(extra)

    return apply


def _set_items(**extra: Any) -> Callable[[Node], None]:
    def apply(node: Node) -> None:
        _items(node).update(extra)

    return apply


def _refinements() -> dict[tuple[str, str], Callable[[Node], None]]:
    catalog = load_catalog()
    products = list(catalog.product_names())
    slug = {"pattern": SLUG_RE.pattern}
    email = {"pattern": EMAIL_RE.pattern}
    duration = {"pattern": f"^(?:permanent|{DURATION_RE.pattern[1:-1]})$"}
    levels = {"enum": list(LEVELS)}

    def grant_customers(node: Node) -> None:
        for member in node["anyOf"]:
            if member.get("type") == "array":
                member["items"].update(slug)

    def permissions(node: Node) -> None:
        node["additionalProperties"].update(levels)

    def features(node: Node) -> None:
        _branch(node)["additionalProperties"]["additionalProperties"].update(enum=[*LEVELS, "none"])

    refine: dict[tuple[str, str], Callable[[Node], None]] = {
        ("Partner", "id"): _set(**slug),
        ("Customer", "id"): _set(**slug),
        ("Partner", "region"): _set(enum=list(catalog.regions)),
        ("Customer", "region"): _set(enum=list(catalog.regions)),
        ("User", "email"): _set(**email),
        ("Poc", "first_user"): _set(**email),
        ("PocLicense", "product_admin"): _set(**email),
        ("AccessTest", "user"): _set(**email),
        ("Group", "members"): _set_items(**email),
        ("Grant", "users"): _set_items(**email),
        ("Grant", "customers"): grant_customers,
        ("Grant", "except_customers"): _set_items(**slug),
        ("AccessTest", "customer"): _set(**slug),
        ("PocLicense", "product"): _set(enum=products),
        ("CustomRole", "product"): _set(enum=products),
        ("CustomRole", "permissions"): permissions,
        ("Expectation", "features"): features,
        ("Grant", "duration"): _set(**duration),
        ("Policy", "max_admin_duration"): _set(**duration),
        ("Policy", "expiry_warning"): _set(**duration),
    }
    for model in ("Partner", "Customer", "User", "Group", "Grant", "Poc"):
        refine[(model, "products")] = _set_items(enum=products)
    return refine


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest file."""
    schema = ManifestFile.model_json_schema(mode="validation")
    defs: dict[str, Node] = schema["$defs"]
    for (model, field), apply in _refinements().items():
        apply(defs[model]["properties"][field])  # a KeyError here means the model moved on
    defs["User"]["properties"]["timezone"]["description"] = "An IANA time zone name, e.g. Europe/Berlin."
    # The model refuses a grant with both expiries; say so to editors too.
    defs["Grant"]["not"] = {"required": ["duration", "until"]}
    for key, text in _TOP_DESCRIPTIONS.items():
        schema["properties"][key]["description"] = text
    head = {
        "$schema": schema.pop("$schema"),
        "$id": SCHEMA_ID,
        "title": schema.pop("title"),
        "description": (
            "One accessplan manifest file. A manifest is one file or a directory of them; "
            "every top-level key is optional here, and rules across files are checked by "
            "'accessplan validate'."
        ),
    }
    schema.pop("description", None)
    defs = schema.pop("$defs")
    return {**head, **schema, "$defs": defs}


def schema_text() -> str:
    """The schema as the checked-in file holds it: stable, indented, one final newline."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
