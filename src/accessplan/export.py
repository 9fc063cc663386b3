"""``accessplan export``: a manifest that reproduces the state.

The way into accessplan for a partner whose access already exists (``terraform
import``, octoDNS's dump), and a record of what is live. The state's
resources are turned back into manifest objects — the partner and its users,
customers with their users, groups, log sets and logs, the custom roles, and
one grant per set of people who hold the same assignment in the same
customers — so that planning the export against the state it came from shows
no changes (apart from deferred entries).

Choices a reader may wonder about:

* expired assignments (tombstones) are not exported: nobody holds that access;
* a relative expiry (``duration: 48h``) is exported as the ``until`` it
  resolved to when it was applied (the ``expires_at`` state stamped), because a
  duration is counted from the apply that creates the assignment and would
  mean something else in another state; the planner knows the two are the same;
* a custom role exists in state once per account that uses it; all its copies
  must agree (they do, unless the state was edited by hand), else the export is
  refused, naming the role;
* what only the customer's side decides (relationships, notifications) stays in
  state: a manifest cannot declare it; neither ``policy`` nor ``tests`` are in
  state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accessplan import lifecycle as lc
from accessplan.errors import StateError, sanitize
from accessplan.state import State
from accessplan.yamlwrite import dump

#: Where the ``$schema`` modeline points by default: the checked-in schema, from a repository's root.
DEFAULT_SCHEMA_REF = "schemas/accessplan.schema.json"

Data = dict[str, Any]
_HINT = "the state was edited by hand: fix it, or make it consistent with an apply"


def _live(state: State) -> dict[str, dict[str, dict[str, Any]]]:
    """Specs by kind, then by the rest of the address; expired tombstones left out."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for addr, res in sorted(state.resources.items()):
        if lc.is_tombstone(res.get("status")):
            continue
        kind, _, rest = addr.partition("/")
        out.setdefault(kind, {})[rest] = res
    return out


def _logs(rules: Mapping[str, Any] | None) -> Data | None:
    rules = rules or {}
    out: Data = {}
    if rules.get("select"):
        out["select"] = list(rules["select"])
    if rules.get("restrict"):
        out["restrict"] = list(rules["restrict"])
    return out or None


def _put(out: Data, key: str, value: Any) -> None:
    """Keys at their default (empty, false, null) are left out, as a person would write the file."""
    if value:
        out[key] = value


def _user(email: str, spec: Mapping[str, Any]) -> Data:
    out: Data = {"email": email, "first_name": spec["first_name"], "last_name": spec["last_name"], "timezone": spec["timezone"]}
    _put(out, "platform_admin", spec.get("platform_admin"))
    _put(out, "distribution_list", spec.get("distribution_list"))
    _put(out, "products", list(spec.get("products") or ()))
    _put(out, "roles", list(spec.get("roles") or ()))
    _put(out, "logs", _logs(spec.get("logs")))
    return out


def _group(name: str, spec: Mapping[str, Any]) -> Data:
    out: Data = {"name": name}
    if spec.get("description") is not None:
        out["description"] = spec["description"]
    _put(out, "products", list(spec.get("products") or ()))
    _put(out, "roles", list(spec.get("roles") or ()))
    _put(out, "members", list(spec.get("members") or ()))
    _put(out, "logs", _logs(spec.get("logs")))
    return out


class _Accounts:
    """What lies under each account, read once from the live resources."""

    def __init__(self, live: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        self.inside: dict[str, dict[str, list[tuple[str, Mapping[str, Any]]]]] = {}
        for kind in ("user", "group", "logset", "log"):
            for rest, res in live.get(kind, {}).items():
                account, _, name = rest.partition("/")
                self.inside.setdefault(account, {}).setdefault(kind, []).append((name, res["spec"]))

    def fill(self, account: str, spec: Mapping[str, Any], out: Data) -> None:
        inside = self.inside.get(account, {})
        _put(out, "users", [_user(email, s) for email, s in inside.get("user", [])])
        _put(out, "groups", [_group(name, s) for name, s in inside.get("group", [])])
        if spec.get("default_all_logs") is False:
            out["data_access"] = {"default_all_logs": False}
        sets = inside.get("logset", [])
        _put(out, "log_sets", [{"name": name, "logs": list(s.get("logs") or ())} for name, s in sets])
        in_sets = {log for _, s in sets for log in s.get("logs") or ()}
        _put(out, "logs", [name for name, s in inside.get("log", []) if name not in in_sets])


def _partner(live: Mapping[str, Mapping[str, Mapping[str, Any]]], accounts: _Accounts) -> Data:
    partners = live.get("partner", {})
    if len(partners) != 1:
        found = "no partner" if not partners else f"{len(partners)} partners"
        raise StateError(f"the state holds {found}; a manifest needs exactly one", _HINT)
    pid, res = next(iter(partners.items()))
    spec = res["spec"]
    out: Data = {"id": pid, "name": spec["name"], "region": spec["region"]}
    _put(out, "products", list(spec.get("products") or ()))
    accounts.fill(pid, spec, out)
    return out


def _customer(cid: str, spec: Mapping[str, Any], accounts: _Accounts) -> Data:
    out: Data = {"id": cid, "name": spec["name"]}
    if spec.get("region") is not None:
        out["region"] = spec["region"]
    _put(out, "labels", dict(spec.get("labels") or {}))
    _put(out, "products", list(spec.get("products") or ()))
    _put(out, "protect", spec.get("protect"))
    accounts.fill(cid, spec, out)
    poc = spec.get("poc")
    if poc:
        out["poc"] = {"products": list(poc["products"]), "first_user": poc["first_user"], "expires": poc["expires"]}
    _put(out, "poc_licenses", [
        {"product": lic["product"], "product_admin": lic["product_admin"], "expires": lic["expires"]} for lic in spec.get("poc_licenses") or ()
    ])
    return out


def _roles(live: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[Data]:
    by_name: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for rest, res in live.get("role", {}).items():
        account, _, name = rest.partition("/")
        by_name.setdefault(name, []).append((account, res["spec"]))
    out: list[Data] = []
    for name, copies in sorted(by_name.items()):
        first_account, spec = copies[0]
        other = next((a for a, s in copies[1:] if s != spec), None)
        if other is not None:
            raise StateError(
                f"custom role '{name}' is defined differently in accounts '{first_account}' and '{other}'",
                "a manifest defines a custom role once for every account; " + _HINT,
            )
        role: Data = {"name": name, "product": spec["product"]}
        if spec.get("extends") is not None:
            role["extends"] = spec["extends"]
        role["permissions"] = dict(spec.get("permissions") or {})
        out.append(role)
    return out


def _expiry(spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> Data:
    """The grant keys of an assignment's expiry: nothing (permanent), ``until``, or ``duration`` if never stamped."""
    expiry = spec.get("expiry") or lc.PERMANENT
    if expiry == lc.PERMANENT:
        return {}
    if lc.absolute_end(expiry) is not None:
        return {"until": expiry}
    stamped = lc.expires_at(status)
    return {"until": stamped} if stamped is not None else {"duration": expiry}


def _grants(live: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[Data]:
    """One grant per (what is granted, set of customers), listing every user who holds exactly that."""
    reach: dict[tuple[str, str], list[str]] = {}  # (grant body as JSON, user) -> customers
    bodies: dict[str, Data] = {}
    for rest, res in live.get("assignment", {}).items():
        cid, _, email = rest.partition("/")
        spec = res["spec"]
        body: Data = {}
        if spec.get("platform_admin"):
            body["platform_admin"] = True
        body.update(_expiry(spec, res.get("status")))
        _put(body, "products", list(spec.get("products") or ()))
        _put(body, "roles", list(spec.get("roles") or ()))
        _put(body, "logs", _logs(spec.get("logs")))
        key = repr(sorted(body.items()))
        bodies[key] = body
        reach.setdefault((key, email), []).append(cid)
    users: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (key, email), customers in reach.items():
        users.setdefault((key, tuple(sorted(customers))), []).append(email)
    out: list[Data] = []
    for (key, reached), emails in sorted(users.items(), key=lambda kv: (sorted(kv[1]), kv[0][1], kv[0][0])):
        out.append({"users": sorted(emails), "customers": list(reached), **bodies[key]})
    return out


def export_manifest(state: State) -> Data:
    """The manifest (as data, keys in the order a person writes them) that reproduces ``state``."""
    live = _live(state)
    accounts = _Accounts(live)
    doc: Data = {"version": 1, "partner": _partner(live, accounts)}
    _put(doc, "roles", _roles(live))
    _put(doc, "customers", [_customer(cid, res["spec"], accounts) for cid, res in live.get("customer", {}).items()])
    _put(doc, "grants", _grants(live))
    return doc


def export_yaml(state: State, location: str, *, schema_ref: str = DEFAULT_SCHEMA_REF) -> str:
    """The exported manifest as one YAML file, with the ``$schema`` modeline editors read."""
    header = (
        f"# yaml-language-server: $schema={_comment(schema_ref)}\n"
        "#\n"
        f"# Exported by accessplan from the state at {_comment(location)}\n"
        f"# (lineage {state.lineage}, serial {state.serial}). Planning this manifest against\n"
        "# that state shows no changes. Relative expiries are written as the 'until'\n"
        "# they resolved to when they were applied.\n"
    )
    return header + dump(export_manifest(state))


def _comment(text: str) -> str:
    """Text fit for a YAML comment: one line, no control characters."""
    return " ".join(sanitize(text).split())
