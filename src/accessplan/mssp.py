"""The MSSP lifecycle's part of a plan: why changes happen, and what to watch.

The join (:mod:`accessplan.join`) knows what changes; some changes have a cause
that the manifest diff alone does not show, and the plan says it:

* ``license_expired`` — a POC license (``poc.expires`` or
  ``poc_licenses[].expires``) has run out: the product is no longer licensed
  in that customer, and the product (and its administrator role) leaves the
  assignments that held it only through that license. Such updates need no
  one's authority: the platform makes them;
* ``user_removed`` — a partner user was deleted from the manifest: their
  assignments and their group memberships go with them.

Both are relabelled only when the change is exactly that and nothing else; a
change mixed with other edits stays ``changed``. The plan also warns about POC
licenses ending within the policy's ``expiry_warning`` window (7 days without
one), and about ``policy`` invariants that the state will break after this
plan (:mod:`accessplan.policy_check`).
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc
from accessplan.catalog import load_catalog
from accessplan.desired import Resources, Spec
from accessplan.plan import Action, Change, Plan, Reason, Warning
from accessplan.poc import time_left

if TYPE_CHECKING:
    from accessplan.model import Policy
    from accessplan.state import State

DEFAULT_LICENSE_WINDOW_HOURS = 7 * 24


def finish_plan(plan: Plan, state: State | None, desired: Resources, policy: Policy | None, now: datetime) -> Plan:
    """``plan`` with its causes named and its lifecycle warnings added, sealed again."""
    from accessplan.model import duration_hours
    from accessplan.policy_check import granted_from_desired, plan_warnings

    granted = granted_from_desired(desired)  # one pass over the desired resources, shared below
    changes = relabel(plan.changes, desired, granted.customers, plan.partner, now)
    relabelled = changes is not plan.changes
    if relabelled:
        plan = dataclasses.replace(plan, changes=changes)
    window = duration_hours(policy.expiry_warning) if policy is not None and policy.expiry_warning else None
    extra = license_warnings(granted.customers, now, window or DEFAULT_LICENSE_WINDOW_HOURS)
    extra += plan_warnings(state, granted, policy, now)
    if not relabelled and not extra:
        return plan
    warnings = tuple(sorted((*plan.warnings, *extra), key=lambda w: (w.address, w.kind, w.message)))
    return dataclasses.replace(plan, warnings=warnings).sealed()


# --- causes --------------------------------------------------------------------


def expired_products(spec: Mapping[str, Any], today: str) -> set[str]:
    """Products a customer had only through POC licenses that ended before ``today``."""
    out: set[str] = set()
    poc = spec.get("poc")
    if poc and poc["expires"] < today:
        out.update(poc["products"])
    for lic in spec.get("poc_licenses") or ():
        if lic["expires"] < today:
            out.add(lic["product"])
    return out - set(spec.get("licensed") or ())


def _role_products(role: str, account: str, desired: Resources) -> set[str]:
    managed = load_catalog().roles.get(role)
    if managed is not None:
        return set(managed.products)
    spec = desired.get(f"role/{account}/{role}")
    return {spec["product"]} if spec else set()


def _license_only(change: Change, ended: set[str], account: str, desired: Resources) -> bool:
    """Whether an update only takes away what expired licenses carried."""
    if change.added or change.changed or not change.removed or not set(change.removed) <= {"licensed", "products", "roles"}:
        return False
    if not set(change.removed.get("licensed", ())) | set(change.removed.get("products", ())) <= ended:
        return False
    held = set((change.before or {}).get("products") or ())
    for role in change.removed.get("roles", ()):
        reach = _role_products(role, account, desired) & held
        if not reach or not reach <= ended:
            return False
    return True


def relabel(changes: tuple[Change, ...], desired: Resources, customers: Mapping[str, Spec], partner: str,
            now: datetime) -> tuple[Change, ...]:
    """``changes`` with ``license_expired`` and ``user_removed`` causes named (the same tuple if none).

    ``customers``: the desired customer specs by id.
    """
    today = lc.iso(now)[:10]
    ended: dict[str, set[str]] = {}
    for cid, spec in customers.items():
        if spec.get("poc") or spec.get("poc_licenses"):
            products = expired_products(spec, today)
            if products:
                ended[cid] = products
    prefix = f"user/{partner}/"
    gone = {c.address[len(prefix):] for c in changes if c.action is Action.DELETE and c.address.startswith(prefix)}
    if not ended and not gone:
        return changes
    out = list(changes)
    for i, change in enumerate(out):
        reason = _cause(change, ended, gone, desired)
        if reason is not None:
            out[i] = dataclasses.replace(change, reason=reason)
    return tuple(out)


def _cause(change: Change, ended: dict[str, set[str]], gone: set[str], desired: Resources) -> Reason | None:
    kind, account, name = (change.address.split("/", 2) + [""])[:3]
    if change.action is Action.UPDATE and change.reason is Reason.CHANGED and account in ended:
        if kind in ("customer", "assignment", "group", "user") and _license_only(change, ended[account], account, desired):
            return Reason.LICENSE_EXPIRED
    if not gone:
        return None
    if kind == "assignment" and change.action is Action.DELETE and change.reason is Reason.REMOVED_FROM_MANIFEST and name in gone:
        return Reason.USER_REMOVED
    if (
        kind == "group"
        and change.action is Action.UPDATE
        and change.reason is Reason.CHANGED
        and not change.added
        and not change.changed
        and set(change.removed) == {"members"}
        and set(change.removed["members"]) <= gone
    ):
        return Reason.USER_REMOVED
    return None


# --- license warnings ----------------------------------------------------------


def _licenses(spec: Spec) -> Iterable[tuple[str, str]]:
    """``(product, expires)`` of every POC license of a customer spec."""
    poc = spec.get("poc")
    if poc:
        for product in poc["products"]:
            yield product, poc["expires"]
    for lic in spec.get("poc_licenses") or ():
        yield lic["product"], lic["expires"]


def license_warnings(customers: Mapping[str, Spec], now: datetime, window_hours: int) -> list[Warning]:
    """A warning per POC license that ends within ``window_hours`` (a license lasts through its day)."""
    horizon = now + timedelta(hours=window_hours)
    out: list[Warning] = []
    for cid, spec in customers.items():
        if not (spec.get("poc") or spec.get("poc_licenses")):
            continue
        addr = f"customer/{cid}"
        for product, expires in sorted(set(_licenses(spec))):
            end = datetime.fromisoformat(expires).replace(tzinfo=timezone.utc) + timedelta(days=1)
            if now < end <= horizon and product not in (spec.get("products") or ()):
                left = time_left(date.fromisoformat(expires), now)
                out.append(
                    Warning(
                        addr,
                        "license_expiring",
                        f"POC license for {product} expires on {expires} ({left}); to ask for more time: "
                        f"accessplan poc email {cid} {shlex.quote(product)} --extend",
                    )
                )
    return out
