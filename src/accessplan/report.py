"""``accessplan report``: who can reach which customer, as one self-contained HTML page.

The page is for the people who review access, often away from a terminal: a
users x customers matrix (admin flag, products and expiry at a glance), the
privilege conflicts, the access ending within the policy's warning window, the
customers whose relationship is pending or revoked, and, given a saved plan,
the access it would change, highlighted in the matrix.

The manifest is evaluated as of ``now`` and combined with state when there is
one (SPEC section 5): state says which customers approved the partner, and
when each time-bound assignment really ends. This module gathers that into
plain data (:func:`build_report`); :mod:`accessplan.report_html` writes the page.

A large MSSP has 2,000 customers and 1,000 analysts: 2 million matrix cells.
The page therefore carries the assignments (about 100,000) as compact data and
draws one page of the matrix at a time in the browser, with filters and
grouping; the tables below the matrix are written out in full up to
:data:`TABLE_LIMIT` rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc
from accessplan.access import AccessModel
from accessplan.catalog import load_catalog
from accessplan.model import duration_hours

if TYPE_CHECKING:
    from accessplan.desired import Resources
    from accessplan.loader import Manifest
    from accessplan.state import State

DEFAULT_WINDOW = "7d"  # when the policy sets no expiry_warning
TABLE_LIMIT = 1_000
_EXTRA_CODES = {"tCell": "TC", "Rapid7 Services": "R7S"}

# Cell flags (bits), read by the page's script.
TIMED, EXPIRING, EXPIRED, NOT_LIVE, GONE = 1, 2, 4, 8, 16


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What a report is made from: the manifest as resources, state, the clock, a saved plan."""

    manifest: Manifest
    desired: Resources
    state: State | None
    state_location: str
    now: datetime
    plan: Mapping[str, Any] | None = None  # a saved plan's JSON document, already verified
    plan_name: str = ""


def short_code(product: str) -> str:
    found = load_catalog().products.get(product)
    return (found.code if found is not None else None) or _EXTRA_CODES.get(product, product)


def build_report(inp: ReportInput) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-able data."""
    model = AccessModel(inp.desired)
    now_iso = lc.iso(inp.now)
    policy = inp.manifest.policy
    window = policy.expiry_warning if policy is not None and policy.expiry_warning else DEFAULT_WINDOW
    horizon = lc.iso(inp.now + timedelta(hours=duration_hours(window) or 0))
    resources = inp.state.resources if inp.state is not None else {}
    customers = [c.id for c in inp.manifest.customers]
    statuses = {cid: _customer_status(resources, cid, inp.state is not None) for cid in customers}
    impact = plan_impact(inp.plan) if inp.plan is not None else {}
    matrix = _Matrix(inp, model, statuses, now_iso, horizon)
    for cid in customers:
        for user in model.users(cid):
            acc = model.access(cid, user)
            if acc is not None and acc.expiry is not None:  # an assignment (not the customer's own staff)
                matrix.add(cid, user, acc, impact.get((cid, user)))
    for (cid, user), entry in sorted(impact.items()):
        if (cid, user) not in matrix.seen and cid in matrix.customer_index:
            matrix.add_gone(cid, user, entry)
    conflicts = [
        {"account": c.account, "kind": c.kind, "subject": c.subject, "product": c.product, "feature": c.feature, "text": c.describe()}
        for c in model.conflicts()
    ]
    expiring = sorted(matrix.expiring + _licenses(inp, now_iso, horizon), key=lambda e: (e["ends"], e["customer"], e["user"]))
    lifecycle = [
        {"id": cid, "name": _name(model, cid), "status": statuses[cid], "note": _STATUS_NOTES[statuses[cid]]}
        for cid in customers
        if statuses[cid] in ("pending", "revoked", "new")
    ]
    counts = {
        "customers": len(customers),
        "users": len(inp.manifest.partner.users),
        "assignments": matrix.assignments,
        "admins": matrix.admins,
        "conflicts": len(conflicts),
        "expiring": sum(1 for e in expiring if e["left"] != "ended"),
        **{s: sum(1 for v in statuses.values() if v == s) for s in ("approved", "pending", "revoked", "new")},
    }
    return {
        "partner": {"id": inp.manifest.partner.id, "name": inp.manifest.partner.name},
        "generated": now_iso,
        "state": _state_info(inp),
        "window": {"text": window, "from_policy": bool(policy is not None and policy.expiry_warning)},
        "counts": counts,
        "conflicts": conflicts,
        "expiring": expiring,
        "lifecycle": lifecycle,
        "plan": _plan_info(inp, impact),
        "matrix": matrix.data(),
        "limit": TABLE_LIMIT,
    }


_STATUS_NOTES = {
    "pending": "waiting for the customer to approve the partner: access there is deferred",
    "revoked": "the customer revoked the partner: access there is deferred",
    "new": "not applied yet: created pending by the next apply (a POC prospect: approved)",
    "approved": "",
    "": "",
}


def _customer_status(resources: Mapping[str, Any], cid: str, has_state: bool) -> str:
    """``approved``, ``pending``, ``revoked``, ``new`` (not in state), or ``""`` without a state."""
    if not has_state:
        return ""
    res = resources.get(f"customer/{cid}")
    if res is None:
        return "new"
    return lc.relationship(res.get("status"))


def _name(model: AccessModel, account: str) -> str:
    return str(model.account_spec(account).get("name") or account)


def _state_info(inp: ReportInput) -> dict[str, Any]:
    if inp.state is None:
        return {"location": inp.state_location, "exists": False, "serial": None, "lineage": None}
    return {"location": inp.state_location, "exists": True, "serial": inp.state.serial, "lineage": inp.state.lineage}


class _Matrix:
    """The matrix as compact data: interned cell profiles and a flat list of cells."""

    def __init__(self, inp: ReportInput, model: AccessModel, statuses: dict[str, str], now_iso: str, horizon: str) -> None:
        self.inp, self.model, self.statuses = inp, model, statuses
        self.now_iso, self.horizon = now_iso, horizon
        self.resources = inp.state.resources if inp.state is not None else {}
        self.customer_index = {c.id: i for i, c in enumerate(inp.manifest.customers)}
        self.user_index: dict[str, int] = {u.email: i for i, u in enumerate(inp.manifest.partner.users)}
        self.extra_users: list[str] = []
        self.profiles: dict[tuple[Any, ...], int] = {}
        self.impacts: list[list[Any]] = []
        self.cells: list[int] = []
        self.seen: set[tuple[str, str]] = set()
        self.expiring: list[dict[str, str]] = []
        self.assignments = self.admins = 0

    def _user(self, email: str) -> int:
        index = self.user_index.get(email)
        if index is None:  # a user that only the plan knows (removed from the manifest)
            index = self.user_index[email] = len(self.user_index)
            self.extra_users.append(email)
        return index

    def _profile(self, key: tuple[Any, ...]) -> int:
        index = self.profiles.get(key)
        if index is None:
            index = self.profiles[key] = len(self.profiles)
        return index

    def _impact(self, entry: dict[str, Any] | None) -> int:
        if entry is None:
            return -1
        self.impacts.append([entry["access"], 1 if entry["escalation"] else 0, impact_text(entry), 1 if entry["deferred"] else 0])
        return len(self.impacts) - 1

    def add(self, cid: str, user: str, acc: Any, impact: dict[str, Any] | None) -> None:
        self.seen.add((cid, user))
        self.assignments += 1
        self.admins += acc.platform_admin
        end, status, flags = self._expiry(cid, user, acc.expiry)
        if self.statuses[cid] in ("pending", "revoked", "new") or status == "not applied yet":
            flags |= NOT_LIVE
        roles = sorted({src.role if src.group is None else f"{src.role} (via {src.group})" for src in acc.roles})
        key = (
            1 if acc.platform_admin else 0,
            " ".join(short_code(p) for p in acc.products),
            _expiry_text(acc.expiry, end),
            flags,
            ", ".join(acc.products),
            ", ".join(roles),
            ", ".join(acc.groups),
            status,
        )
        self.cells += (self._user(user), self.customer_index[cid], self._profile(key), self._impact(impact))
        if flags & (EXPIRING | EXPIRED) and end is not None:
            ended = bool(flags & EXPIRED)
            left = "ended" if ended else lc.hours_text(lc.parse_time(end) - self.inp.now)
            what = "assignment (ended: the next apply removes it)" if ended else "assignment"
            self.expiring.append({"customer": cid, "name": _name(self.model, cid), "user": user, "what": what, "ends": end, "left": left})

    def add_gone(self, cid: str, user: str, impact: dict[str, Any]) -> None:
        """A pair the plan takes all access from: it has no assignment left to show."""
        key = (0, "", "", GONE, "", "", "", "removed by the plan")
        self.cells += (self._user(user), self.customer_index[cid], self._profile(key), self._impact(impact))

    def _expiry(self, cid: str, user: str, expiry: str) -> tuple[str | None, str, int]:
        """When the assignment ends (if known), its state in state, and its flags."""
        res = self.resources.get(f"assignment/{cid}/{user}")
        status_doc = res.get("status") if res is not None else None
        if self.inp.state is None:
            status = ""
        elif res is None:
            status = "not applied yet"
        elif lc.is_tombstone(status_doc) or lc.has_expired(status_doc, self.now_iso):
            status = "expired"
        else:
            status = "live"
        if expiry == lc.PERMANENT:
            return None, status, 0
        end = lc.absolute_end(expiry)
        if end is None and status == "live" and res is not None and res["spec"].get("expiry") == expiry:
            end = lc.expires_at(status_doc)
        if status == "expired" and res is not None:
            end = lc.expires_at(status_doc) or end
        flags = TIMED
        if status == "expired" or (end is not None and end <= self.now_iso):
            flags |= EXPIRED
        elif end is not None and end <= self.horizon:
            flags |= EXPIRING
        return end, status, flags

    def data(self) -> dict[str, Any]:
        customers = []
        for c in self.inp.manifest.customers:
            labels = " ".join(f"{k}:{v}" for k, v in sorted(c.labels.items()))
            licensed = " ".join(short_code(p) for p in self.model.account_spec(c.id).get("licensed") or ())
            customers.append([c.id, c.name, self.statuses[c.id], labels, licensed, dict(sorted(c.labels.items()))])
        users = [[u.email, f"{u.first_name} {u.last_name}", 1 if u.distribution_list else 0] for u in self.inp.manifest.partner.users]
        users += [[email, email, 0] for email in self.extra_users]
        return {
            "customers": customers,
            "users": users,
            "profiles": [list(key) for key in self.profiles],
            "cells": self.cells,
            "impacts": self.impacts,
            "labelKeys": sorted({k for c in self.inp.manifest.customers for k in c.labels}),
        }


def _expiry_text(expiry: str, end: str | None) -> str:
    if expiry == lc.PERMANENT:
        return ""
    if end is not None:
        return f"until {end}"
    return f"{expiry} from the apply that grants it"


def _licenses(inp: ReportInput, now_iso: str, horizon: str) -> list[dict[str, str]]:
    """POC licenses ending within the window: their product stops being licensed then."""
    out: list[dict[str, str]] = []
    for c in inp.manifest.customers:
        ends = [(c.poc.expires, ", ".join(c.poc.products), c.poc.first_user)] if c.poc is not None else []
        ends += [(lic.expires, lic.product, lic.product_admin) for lic in c.poc_licenses]
        for day, products, user in ends:
            end = lc.iso(datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1))
            if now_iso < end <= horizon:
                left = lc.hours_text(lc.parse_time(end) - inp.now)
                out.append({"customer": c.id, "name": c.name, "user": user, "what": f"POC license for {products}", "ends": end, "left": left})
    return out


# --- a saved plan --------------------------------------------------------------------


def plan_impact(plan: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(customer, user) -> {access, gained, lost, escalation, escalations, deferred}`` from a saved plan.

    Plans of an older accessplan carry no impact: their assignment changes and
    escalations are used instead, so that the matrix still shows what changes.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in plan.get("impact") or ():
        gained, lost = describe(entry.get("gained")), describe(entry.get("lost"))
        access = str(entry.get("access") or ("new" if not lost else "removed" if not gained else "changed"))
        out[(str(entry["customer"]), str(entry["user"]))] = _row(access, gained, lost, bool(entry.get("escalation")), bool(entry.get("deferred")))
    for change in plan.get("changes") or ():
        kind, _, rest = str(change["address"]).partition("/")
        cid, _, user = rest.partition("/")
        if kind != "assignment" or (cid, user) in out:
            continue
        access = {"create": "new", "delete": "removed"}.get(str(change["action"]), "changed")
        what = f"the assignment ({change['reason']})"
        out[(cid, user)] = _row(access, what if access != "removed" else "", what if access == "removed" else "", False, change["action"] == "defer")
    for esc in plan.get("escalations") or ():
        row = out.get((str(esc["customer"]), str(esc["user"])))
        if row is not None:
            row["escalation"] = True
            row["escalations"].append(str(esc["detail"]))
    return out


def _row(access: str, gained: str, lost: str, escalation: bool, deferred: bool) -> dict[str, Any]:
    return {"access": access, "gained": gained, "lost": lost, "escalation": escalation, "escalations": [], "deferred": deferred}


def impact_text(row: Mapping[str, Any]) -> str:
    """One line for a matrix cell's tooltip."""
    parts = [f"gains {row['gained']}" if row["gained"] else "", f"loses {row['lost']}" if row["lost"] else ""]
    parts += [f"escalation: {detail}" for detail in row["escalations"]]
    text = "; ".join(p for p in parts if p) or "access changes"
    return text + (" (deferred: the customer has not approved)" if row["deferred"] else "")


_ORDER = {key: i for i, key in enumerate(("platform_admin", "products", "features", "logs", "expiry"))}


def describe(value: Any) -> str:
    """A gained/lost mapping of an impact entry in a few words."""
    if not value:
        return ""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(describe(v) for v in value)
    if isinstance(value, Mapping):
        parts = []
        for key in sorted(value, key=lambda k: (_ORDER.get(k, len(_ORDER)), k)):
            inner = value[key]
            if key == "platform_admin":
                parts.append("platform admin")
            elif key == "features" and isinstance(inner, Mapping):
                parts += [f"{product} {feature}: {level}" for product, levels in inner.items() for feature, level in levels.items()]
            else:
                parts.append(f"{key}: {describe(inner)}")
        return "; ".join(parts)
    return str(value)


def _plan_info(inp: ReportInput, impact: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any] | None:
    plan = inp.plan
    if plan is None:
        return None
    state = inp.state
    stale = ""
    if state is None and plan.get("lineage") is not None:
        stale = "the state it was made against is gone"
    elif state is not None and (plan.get("lineage") != state.lineage or plan.get("serial") != state.serial):
        stale = f"it was made against state serial {plan.get('serial')}, the state is now at serial {state.serial}: apply would refuse it"
    rows = [
        {"customer": c, "user": u, **entry}
        for (c, u), entry in sorted(impact.items(), key=lambda kv: (not kv[1]["escalation"], kv[0]))
    ]
    return {
        "name": inp.plan_name,
        "created_at": str(plan.get("created_at", "")),
        "summary": dict(plan.get("summary") or {}),
        "stale": stale,
        "impact": rows,
        "escalations": sum(1 for r in rows if r["escalation"]),
    }
