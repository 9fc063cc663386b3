"""What only the customer's side decides: approving the partner, revoking it, notifications.

In the platform these are done by a managed customer's own platform
administrator, in their account's settings (seed); the partner's manifest
cannot declare them. accessplan records them in state, through ``accessplan
customer approve|revoke|notifications ID``, acting as that administrator:

* **approve** sets the customer's relationship to ``approved``; the next plan
  turns what was deferred under it into changes;
* **revoke** sets it to ``revoked`` and, in the same write, removes the
  partner's assignments in that customer and their group memberships (the
  partner no longer has authority there), owing an ``access_removed``
  notification for each if the customer asked; later plans defer those grants
  with reason ``customer_revoked``;
* **notifications** turns the grant and removal notifications on or off.

Each action is one locked, audited commit (one ``audit.jsonl`` line with the
operation, the customer, the actor, the serials and the changes), or no write
at all when there is nothing to change. Expired tombstones stay, and an
assignment already past its ``expires_at`` becomes one: they give no access,
and they keep an unchanged, expired grant from coming back once the customer
approves again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accessplan import lifecycle as lc
from accessplan import notify
from accessplan.authority import check_customer_actor
from accessplan.errors import AccessplanError
from accessplan.model import did_you_mean
from accessplan.plan import Reason
from accessplan.state import Backend, State

APPROVE, REVOKE, NOTIFICATIONS = "customer approve", "customer revoke", "customer notifications"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a customer-side action did; ``written`` is False when there was nothing to do."""

    operation: str
    customer: str
    written: bool
    serial_before: int
    serial_after: int
    relationship_before: str
    relationship_after: str
    settings: dict[str, bool]
    removed: tuple[str, ...] = ()  # assignments deleted (revoke)
    updated: tuple[str, ...] = ()  # groups that lost members (revoke)
    notifications: tuple[notify.Record, ...] = ()


@dataclass(slots=True)
class _Edit:
    """The working copy of one action: new resources, audit changes, notifications."""

    resources: dict[str, dict[str, Any]]
    changes: list[dict[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    notifications: list[notify.Record] = field(default_factory=list)


Step = Callable[[State, str, _Edit, str | None, str], bool]  # one action on the working copy; False: nothing to do


def approve(backend: Backend, customer: str, *, actor: str | None, now: datetime, lock_timeout: float = 0.0) -> Outcome:
    """The customer approves the partner (again, after a revocation)."""
    return _act(backend, APPROVE, customer, actor, now, lock_timeout, _approve)


def revoke(backend: Backend, customer: str, *, actor: str | None, now: datetime, lock_timeout: float = 0.0) -> Outcome:
    """The customer removes the partner's access: status, assignments and memberships in one write."""
    return _act(backend, REVOKE, customer, actor, now, lock_timeout, _revoke)


def set_notifications(backend: Backend, customer: str, *, on_grant: bool | None, on_removal: bool | None,
                      actor: str | None, now: datetime, lock_timeout: float = 0.0) -> Outcome:
    """Turn the customer's grant/removal notifications on or off (``None``: leave as it is)."""

    def change(state: State, cid: str, edit: _Edit, who: str | None, when: str) -> bool:
        res = edit.resources[f"customer/{cid}"]
        settings = lc.notification_settings(res.get("status"))
        wanted = dict(settings)
        if on_grant is not None:
            wanted[lc.ON_GRANT] = on_grant
        if on_removal is not None:
            wanted[lc.ON_REMOVAL] = on_removal
        if wanted == settings:
            return False
        _set_status(edit, cid, {lc.NOTIFICATIONS: wanted}, "notifications")
        return True

    return _act(backend, NOTIFICATIONS, customer, actor, now, lock_timeout, change)


def _set_status(edit: _Edit, cid: str, values: dict[str, Any], reason: str) -> None:
    address = f"customer/{cid}"
    res = edit.resources[address]
    edit.resources[address] = {"spec": res["spec"], "status": {**(res.get("status") or {}), **values}}
    edit.changes.append({"action": "update", "address": address, "reason": reason})


def _approve(state: State, cid: str, edit: _Edit, actor: str | None, now_iso: str) -> bool:
    if lc.relationship(edit.resources[f"customer/{cid}"].get("status")) == lc.APPROVED:
        return False
    _set_status(edit, cid, {lc.RELATIONSHIP: lc.APPROVED, "approved_at": now_iso, "approved_by": actor}, "customer_approved")
    return True


def _revoke(state: State, cid: str, edit: _Edit, actor: str | None, now_iso: str) -> bool:
    address = f"customer/{cid}"
    status = edit.resources[address].get("status")
    if lc.relationship(status) == lc.REVOKED:
        return False
    _set_status(edit, cid, {lc.RELATIONSHIP: lc.REVOKED, "revoked_at": now_iso, "revoked_by": actor}, "customer_revoked")
    tell = notify.wanted(status, notify.REMOVED)
    prefix = f"assignment/{cid}/"
    partner_users: set[str] = set()  # every partner user with an assignment here, tombstones included
    for addr in sorted(a for a in edit.resources if a.startswith(prefix)):
        email = addr[len(prefix):]
        partner_users.add(email)
        res = edit.resources[addr]
        status = res.get("status") or {}
        if lc.is_tombstone(status):
            continue
        edit.removed.append(addr)
        if lc.has_expired(status, now_iso):
            # Past its expiry already: it becomes the tombstone the next apply would have made.
            edit.resources[addr] = {"spec": res["spec"], "status": {**status, lc.TOMBSTONE: lc.EXPIRED, lc.REMOVED_AT: now_iso}}
            edit.changes.append({"action": "delete", "address": addr, "reason": Reason.EXPIRED.value})
        else:
            del edit.resources[addr]
            edit.changes.append({"action": "delete", "address": addr, "reason": Reason.CUSTOMER_REVOKED.value})
        if tell:
            edit.notifications.append(notify.record(now_iso, cid, email, notify.REMOVED, state.serial + 1))
    group_prefix = f"group/{cid}/"
    for addr in sorted(a for a in edit.resources if a.startswith(group_prefix)):
        res = edit.resources[addr]
        members = res["spec"].get("members") or []
        kept = [m for m in members if m not in partner_users]
        if len(kept) != len(members):
            edit.resources[addr] = {"spec": {**res["spec"], "members": kept}, "status": res.get("status") or {}}
            edit.updated.append(addr)
            edit.changes.append({"action": "update", "address": addr, "reason": Reason.CUSTOMER_REVOKED.value})
    return True


def _find(state: State | None, customer: str, location: str) -> State:
    if state is None:
        raise AccessplanError(f"there is no state at {location}", "apply the manifest first: a new customer is created pending")
    if f"customer/{customer}" not in state.resources:
        known = sorted(a.split("/", 1)[1] for a in state.resources if a.startswith("customer/"))
        raise AccessplanError(
            f"customer '{customer}' is not in the state at {location}",
            did_you_mean(customer, known, "apply the manifest that declares it first: a new customer is created pending"),
        )
    return state


def _act(backend: Backend, operation: str, customer: str, actor: str | None, now: datetime, lock_timeout: float,
         step: Step) -> Outcome:
    """Lock, read, check the actor, change, commit (or write nothing when nothing changes)."""
    now_iso = lc.iso(now)
    with backend.lock(operation=operation, actor=actor, timeout=lock_timeout, now=now):
        state = _find(backend.read(), customer, backend.location)
        check_customer_actor(state, customer, actor, operation.split()[1])
        address = f"customer/{customer}"
        before = lc.relationship(state.resources[address].get("status"))
        edit = _Edit(dict(state.resources))
        changed = step(state, customer, edit, actor, now_iso)
        after_status = edit.resources[address].get("status")
        serial_after = state.serial
        if changed:
            serial_after = state.serial + 1
            new = State(lineage=state.lineage, serial=serial_after, partner=state.partner, resources=edit.resources)
            audit = {
                "actor": actor,
                "change_ref": None,
                "changes": edit.changes,
                "customer": customer,
                "operation": operation,
                "plan_hash": None,
                "serial_after": serial_after,
                "serial_before": state.serial,
                "time": now_iso,
            }
            backend.commit(new, expected=(state.lineage, state.serial), audit=audit, notifications=edit.notifications)
    return Outcome(
        operation=operation,
        customer=customer,
        written=changed,
        serial_before=state.serial,
        serial_after=serial_after,
        relationship_before=before,
        relationship_after=lc.relationship(after_status),
        settings=lc.notification_settings(after_status),
        removed=tuple(edit.removed),
        updated=tuple(edit.updated),
        notifications=tuple(edit.notifications),
    )
