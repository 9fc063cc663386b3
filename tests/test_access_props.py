"""Properties of effective access, over generated organisations (hypothesis).

Each example is a small manifest written as YAML (JSON is YAML 1.2) and run
through the real pipeline: load, resolve, desired resources, access engine.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessplan.access import Access, AccessModel
from accessplan.catalog import level_rank, load_catalog
from accessplan.desired import desired_resources
from accessplan.loader import load_manifest
from accessplan.resolve import resolve

USERS = ("bob@acme.example", "eve@acme.example")
PRODUCTS = ("InsightIDR", "InsightOps", "InsightConnect", "InsightVM")
MANAGED = (
    "InsightIDR Admin", "InsightIDR Analyst", "InsightIDR Viewer", "Log Search Admin", "Log Search View Only",
    "Log Search View and Change", "InsightOps Admin", "InsightOps View Only", "Administrator", "View Only",
)
CUSTOM = "Hunter"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Doc = dict[str, Any]


def _subset(draw: st.DrawFn, items: tuple[str, ...] | list[str], max_size: int = 3) -> list[str]:
    return draw(st.lists(st.sampled_from(items), unique=True, max_size=max_size)) if items else []


@st.composite
def orgs(draw: st.DrawFn) -> Doc:
    """A partner with two users, one customer with log sets and groups, and grants."""
    sets: dict[str, list[str]] = {}
    n = 0
    for s in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 3))
        sets[f"set-{s}"] = [f"log-{n + i}" for i in range(size)]
        n += size
    loose = [f"log-{n + i}" for i in range(draw(st.integers(0, 2)))]
    names = [*sets, *(log for logs in sets.values() for log in logs), *loose]
    feature_pool = sorted(load_catalog().products["InsightIDR"].features)
    custom_perms = {f: draw(st.sampled_from(load_catalog().products["InsightIDR"].features[f])) for f in _subset(draw, feature_pool, 3)}
    roles = (*MANAGED, CUSTOM)

    def rules() -> Doc:
        return {"select": _subset(draw, names), "restrict": _subset(draw, names, 2)}

    groups = []
    for g in range(draw(st.integers(0, 3))):
        groups.append({
            "name": f"group-{g}", "products": _subset(draw, PRODUCTS, 2), "roles": _subset(draw, roles, 3),
            "members": _subset(draw, USERS, 2), "logs": rules(),
        })
    grants = [
        {"users": [user], "customers": ["globex"], "products": _subset(draw, PRODUCTS, 3), "roles": _subset(draw, roles, 3), "logs": rules()}
        for user in USERS
    ]
    return {
        "version": 1,
        "partner": {
            "id": "acme-mssp", "name": "Acme", "region": "us",
            "users": [{"email": u, "first_name": "A", "last_name": "B", "timezone": "UTC"} for u in USERS],
        },
        "roles": [{"name": CUSTOM, "product": "InsightIDR", "permissions": custom_perms}],
        "customers": [{
            "id": "globex", "name": "Globex", "region": "eu",
            "products": sorted({"InsightIDR", *_subset(draw, PRODUCTS, 3)}),
            "data_access": {"default_all_logs": False},
            "log_sets": [{"name": k, "logs": v} for k, v in sets.items()],
            "logs": loose,
            "groups": groups,
        }],
        "grants": grants,
    }


def _model(doc: Doc, split: bool = False) -> tuple[AccessModel, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if split:  # the same manifest over several files
            (root / "customers").mkdir()
            parts = {"a.yaml": {k: doc[k] for k in ("version", "partner")}, "customers/globex.yaml": {"customers": doc["customers"]},
                     "grants.yaml": {"grants": doc["grants"]}, "roles.yaml": {"roles": doc["roles"]}}
            for name, part in parts.items():
                (root / name).write_text(json.dumps(part), encoding="utf-8")
            manifest = load_manifest(root)
        else:
            (root / "m.yaml").write_text(json.dumps(doc), encoding="utf-8")
            manifest = load_manifest(root / "m.yaml")
    resources = desired_resources(manifest, resolve(manifest))
    return AccessModel(resources), resources


def _all(model: AccessModel) -> dict[tuple[str, str], Access | None]:
    return {(a, u): model.access(a, u) for a in model.accounts() for u in (*USERS, "nobody@acme.example")}


def _customer(doc: Doc) -> Doc:
    customer: Doc = doc["customers"][0]
    return customer


def _holders(doc: Doc, user: str) -> list[Doc]:
    """The log-rule holders reaching ``user``: its grant and its groups."""
    grant = next(g for g in doc["grants"] if g["users"] == [user])
    return [grant["logs"], *(g["logs"] for g in _customer(doc)["groups"] if user in g["members"])]


@SETTINGS
@given(orgs(), st.data())
def test_restricting_a_log_never_gives_access(doc: Doc, data: st.DataObject) -> None:
    before, _ = _model(doc)
    changed = copy.deepcopy(doc)
    customer = _customer(changed)
    names = [s["name"] for s in customer["log_sets"]] + [log for s in customer["log_sets"] for log in s["logs"]] + customer["logs"]
    owner = data.draw(st.sampled_from(changed["grants"] + customer["groups"]))
    holder = owner["logs"]
    extra = data.draw(st.sampled_from([n for n in names if n not in holder["restrict"]] or names))
    if extra not in holder["restrict"]:
        holder["restrict"].append(extra)
    after, _ = _model(changed)
    hidden = next((s["logs"] for s in customer["log_sets"] if s["name"] == extra), [extra])
    for user in USERS:
        old, new = before.access("globex", user), after.access("globex", user)
        assert old is not None and new is not None
        assert (new.logs or frozenset()) <= (old.logs or frozenset())
        if user in owner.get("users", owner.get("members", [])):
            assert not (new.logs or frozenset()) & set(hidden)  # and the restriction does hide it


@SETTINGS
@given(orgs(), st.data())
def test_selected_log_set_covers_every_log_also_after_one_is_added(doc: Doc, data: st.DataObject) -> None:
    customer = _customer(doc)
    target = data.draw(st.sampled_from(customer["log_sets"]))
    user = data.draw(st.sampled_from(USERS))
    grant = next(g for g in doc["grants"] if g["users"] == [user])
    grant["products"] = sorted({"InsightIDR", *grant["products"]})
    grant["logs"]["select"] = sorted({target["name"], *grant["logs"]["select"]})
    blocked = {target["name"], *target["logs"]}
    for rules in _holders(doc, user):
        rules["restrict"] = [n for n in rules["restrict"] if n not in blocked]
    before, old_resources = _model(doc)
    acc = before.access("globex", user)
    assert acc is not None and acc.logs is not None and acc.logs >= set(target["logs"])

    target["logs"].append("log-new")
    after, new_resources = _model(doc)
    for model in (after, AccessModel(new_resources, baseline=old_resources)):
        acc = model.access("globex", user)
        assert acc is not None and acc.logs is not None and acc.logs >= set(target["logs"])


def _role_def(doc: Doc, name: str) -> tuple[set[str], dict[str, str]] | None:
    if name == CUSTOM:
        return {"InsightIDR"}, dict(doc["roles"][0]["permissions"])
    role = load_catalog().roles.get(name)
    return None if role is None else (set(role.products), dict(role.permissions))


@SETTINGS
@given(orgs())
def test_every_effective_level_is_the_lowest_an_applying_role_grants(doc: Doc) -> None:
    model, _ = _model(doc)
    catalog = load_catalog()
    licensed = set(_customer(doc)["products"])
    for user in USERS:
        acc = model.access("globex", user)
        assert acc is not None
        grant = next(g for g in doc["grants"] if g["users"] == [user])
        groups = [g for g in _customer(doc)["groups"] if user in g["members"]]
        products = (set(grant["products"]).union(*(g["products"] for g in groups))) & licensed
        roles = set(grant["roles"]).union(*(g["roles"] for g in groups))
        expected: dict[tuple[str, str], str] = {}
        for product in products:
            info = catalog.products[product]
            if info.full_access:
                expected[(product, "Product")] = "Administer"
                continue
            if info.roles_ignored:
                continue
            for name in roles:
                found = _role_def(doc, name)
                if found is None or product not in found[0]:
                    continue
                for feature, level in found[1].items():
                    if feature in info.features:
                        old = expected.get((product, feature))
                        if old is None or level_rank(level) < level_rank(old):
                            expected[(product, feature)] = level
        assert {(fl.product, fl.feature): fl.level for fl in acc.features} == expected
        for fl in acc.features:
            if fl.source.kind == "role":  # the named source really gives that level
                found = _role_def(doc, fl.source.role)
                assert found is not None and found[1][fl.feature] == fl.level and fl.source in acc.roles


@SETTINGS
@given(orgs(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_order(doc: Doc, rnd: random.Random) -> None:
    model, _ = _model(doc)
    shuffled = copy.deepcopy(doc)
    customer = _customer(shuffled)
    for items in (shuffled["grants"], customer["groups"], customer["log_sets"]):
        rnd.shuffle(items)
    for holder in (*shuffled["grants"], *customer["groups"]):
        for key in ("roles", "products", "members"):
            if key in holder:
                rnd.shuffle(holder[key])
        rnd.shuffle(holder["logs"]["select"])
        rnd.shuffle(holder["logs"]["restrict"])
    # One grant per (user, role) instead of one per user: overlapping grants union.
    split_grants = []
    for grant in shuffled["grants"]:
        split_grants.append({**grant, "roles": grant["roles"][:1]})
        split_grants.extend({"users": grant["users"], "customers": grant["customers"], "roles": [r]} for r in grant["roles"][1:])
    rnd.shuffle(split_grants)
    shuffled["grants"] = split_grants
    other, _ = _model(shuffled, split=True)
    assert _all(other) == _all(model)
    assert other.conflicts() == model.conflicts()
