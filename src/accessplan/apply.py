"""Apply a plan to a state backend: checked first, then written all at once.

Before anything is written the plan must pass every guard of SPEC section 4:
it was made against the state as it is now (lineage and serial), no
assignment or POC license expired between planning and applying, the actor
(``--as``) has the authority for every change (:mod:`accessplan.authority`;
without ``--as`` the actor is unknown and nothing is checked), no customer is removed
without ``--allow-customer-removal`` (and never a protected one), no more than
30 % (and more than 10) of the assignments are deleted without ``--force``
(expiry removals do not count), and no escalation goes through without
``--allow-escalation`` (deferred ones are marked, not refused).

Then the whole new state is built in memory and handed to the backend in one
``commit``, with the audit record and the notifications owed to customers
that asked for them (:mod:`accessplan.notify`): either every change of the
plan is in the new state, or none is.
Statuses are stamped here — a customer's relationship and ``protect``, an
assignment's provenance (``granted_at``, ``granted_by``, ``change_ref``) and
``expires_at`` — because they record what happened at apply time, not what the
manifest says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessplan import lifecycle as lc
from accessplan.errors import PlanRefused
from accessplan.plan import Action, Change, Plan, Reason
from accessplan.state import Backend, State

SAFETY_PERCENT = 30  # more than this share (in %) of assignments deleted ...
SAFETY_MIN = 10  # ... and more than this many: refused without --force

Progress = Callable[[int], None]  # called with the number of changes applied so far


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    force: bool = False
    allow_escalation: bool = False
    allow_customer_removal: bool = False


@dataclass(frozen=True, slots=True)
class ApplyResult:
    written: bool  # False when the plan held nothing to apply (only deferred entries)
    serial_before: int | None
    serial_after: int | None
    applied: tuple[Change, ...]


_UNREAD: Any = object()


def check_plan(plan: Plan, current: State | None, now: datetime, options: ApplyOptions, location: str,
               *, actor: str | None = None) -> None:
    """Every guard, in the order a user should hear about them; :class:`PlanRefused` if one fails."""
    _check_fresh(plan, current, location)
    _check_expiry(plan, current, now)
    _check_licenses(plan, current, now)
    if actor is not None:
        from accessplan.authority import check_apply

        resources = current.resources if current is not None else {}
        check_apply(plan.applicable, actor, resources, plan.partner, lc.iso(now))
    _check_removals(plan, current, options)
    _check_safety(plan, current, options)
    _check_escalations(plan, options)


def _check_fresh(plan: Plan, current: State | None, location: str) -> None:
    hint = "the state changed since the plan was made: make a new plan"
    if current is None:
        if plan.lineage is not None:
            raise PlanRefused(f"the plan was made against state serial {plan.serial}, but there is no state at {location}", hint)
        return
    if plan.lineage is None:
        raise PlanRefused(f"the plan was made against an empty state, but {location} now holds serial {current.serial}", hint)
    if plan.lineage != current.lineage:
        raise PlanRefused(f"the plan was made against another state (lineage {plan.lineage}; {location} has lineage {current.lineage})", hint)
    if plan.serial != current.serial:
        raise PlanRefused(f"the plan is stale: it was made against state serial {plan.serial}, the state is now at serial {current.serial}", hint)


def _check_expiry(plan: Plan, current: State | None, now: datetime) -> None:
    if current is None:
        return
    now_iso = lc.iso(now)
    fell: list[tuple[str, str]] = []
    for addr, res in current.resources.items():
        if not addr.startswith("assignment/") or lc.is_tombstone(res.get("status")):
            continue
        end = lc.expires_at(res.get("status"))
        if end is not None and plan.created_at < end <= now_iso:
            fell.append((end, addr))
    if fell:
        end, addr = min(fell)
        more = f" (and {len(fell) - 1} more)" if len(fell) > 1 else ""
        raise PlanRefused(
            f"the plan is out of date: {addr} expired at {end}, after the plan was made at {plan.created_at}{more}",
            "make a new plan: it removes what expired",
        )


def _check_licenses(plan: Plan, current: State | None, now: datetime) -> None:
    """A POC license that ended between planning and applying changes what the plan should do."""
    made, today = plan.created_at[:10], lc.iso(now)[:10]
    if made == today:
        return
    specs = [res["spec"] for addr, res in (current.resources.items() if current is not None else ()) if addr.startswith("customer/")]
    specs += [c.after for c in plan.changes if c.kind == "customer" and c.after is not None]
    for spec in specs:
        licenses = list(spec.get("poc_licenses") or ())
        if spec.get("poc"):
            licenses.append({"expires": spec["poc"]["expires"], "product": ", ".join(spec["poc"]["products"])})
        for lic in sorted(licenses, key=lambda d: (d["expires"], d["product"])):
            if made <= lic["expires"] < today:
                raise PlanRefused(
                    f"the plan is out of date: the POC license for {lic['product']} expired on {lic['expires']}, "
                    f"after the plan was made at {plan.created_at}",
                    "make a new plan: it removes what the license carried",
                )


def _check_removals(plan: Plan, current: State | None, options: ApplyOptions) -> None:
    removed = [c.address.split("/", 1)[1] for c in plan.changes if c.action is Action.DELETE and c.kind == "customer"]
    if not removed:
        return
    resources = current.resources if current is not None else {}
    protected = [cid for cid in removed if (resources.get(f"customer/{cid}", {}).get("status") or {}).get(lc.PROTECT)]
    names = ", ".join(f"'{c}'" for c in (protected or removed))
    if protected:
        it = "it" if len(protected) == 1 else "them"
        raise PlanRefused(
            f"the plan would remove protected customer{'s' if len(protected) > 1 else ''} {names}",
            f"state marks {it} protected: apply 'protect: false' first, then remove {it}",
        )
    if not options.allow_customer_removal:
        raise PlanRefused(
            f"the plan removes customer{'s' if len(removed) > 1 else ''} {names}, ending the relationship and all access there",
            "if that is intended, apply with --allow-customer-removal",
        )


def unsafe_deletions(plan: Plan, current: State | None) -> tuple[int, int] | None:
    """``(deleted, total)`` assignments when the plan crosses the safety threshold, else None."""
    deleted = sum(1 for c in plan.changes if c.action is Action.DELETE and c.kind == "assignment" and c.reason is not Reason.EXPIRED)
    if current is None or deleted <= SAFETY_MIN:
        return None
    total = sum(1 for addr, res in current.resources.items() if addr.startswith("assignment/") and not lc.is_tombstone(res.get("status")))
    if deleted * 100 <= total * SAFETY_PERCENT:
        return None
    return deleted, total


def _check_safety(plan: Plan, current: State | None, options: ApplyOptions) -> None:
    unsafe = unsafe_deletions(plan, current)
    if unsafe is not None and not options.force:
        deleted, total = unsafe
        raise PlanRefused(
            f"the plan deletes {deleted} of {total} assignments (more than {SAFETY_PERCENT} % and more than {SAFETY_MIN})",
            "check the manifest; if the deletions are intended, apply with --force",
        )


def _check_escalations(plan: Plan, options: ApplyOptions) -> None:
    live = [e for e in plan.escalations if not e.deferred]
    if live and not options.allow_escalation:
        first = live[0]
        more = f" (and {len(live) - 1} more)" if len(live) > 1 else ""
        raise PlanRefused(
            f"the plan escalates access: {first.address}: {first.detail}{more}",
            "review the escalations listed first in the plan; apply with --allow-escalation to accept them",
        )


def apply_plan(
    plan: Plan,
    backend: Backend,
    *,
    now: datetime,
    actor: str | None,
    change_ref: str | None,
    options: ApplyOptions,
    current: State | None = _UNREAD,
    progress: Progress | None = None,
) -> ApplyResult:
    """Check and apply ``plan``; the caller holds ``backend.lock()``.

    ``current`` is the state the caller already read under the lock (it is
    read here when not given).
    """
    if current is _UNREAD:
        current = backend.read(partner=plan.partner or None)
    check_plan(plan, current, now, options, backend.location, actor=actor)
    applied = plan.applicable
    serial_before = current.serial if current is not None else None
    if not applied:
        return ApplyResult(False, serial_before, serial_before, ())
    new = next_state(plan, current, now, actor, change_ref, progress)
    audit = {
        "actor": actor,
        "change_ref": change_ref,
        "changes": [{"action": c.action.value, "address": c.address, "reason": c.reason.value} for c in applied],
        "operation": "apply",
        "plan_hash": plan.content_hash,
        "serial_after": new.serial,
        "serial_before": serial_before,
        "time": lc.iso(now),
    }
    expected = (current.lineage, current.serial) if current is not None else None
    from accessplan.notify import for_changes

    owed = for_changes(applied, current.resources if current is not None else {}, serial=new.serial, time=lc.iso(now))
    backend.commit(new, expected=expected, audit=audit, notifications=owed)
    return ApplyResult(True, serial_before, new.serial, applied)


def next_state(plan: Plan, current: State | None, now: datetime, actor: str | None, change_ref: str | None,
               progress: Progress | None = None) -> State:
    """The state after every applicable change of ``plan``; ``current`` is not modified."""
    base = current if current is not None else State.new(plan.partner)
    resources: dict[str, dict[str, Any]] = dict(base.resources)
    stamp = _Stamp(lc.iso(now), now, actor, change_ref)
    for i, change in enumerate(plan.applicable, start=1):
        old = resources.get(change.address)
        if change.action is Action.DELETE:
            if change.reason is Reason.EXPIRED and old is not None:
                resources[change.address] = {"spec": old["spec"], "status": stamp.tombstone(old.get("status") or {})}
            else:
                resources.pop(change.address, None)
        else:
            assert change.after is not None, change.address
            resources[change.address] = {"spec": change.after, "status": stamp.status(change, old)}
        if progress is not None and i % 1000 == 0:
            progress(i)
    for addr in plan.forget:
        if lc.is_tombstone((resources.get(addr) or {}).get("status")):
            del resources[addr]
    return State(lineage=base.lineage, serial=base.serial + 1, partner=plan.partner or base.partner, resources=resources)


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What apply records in statuses: the time, and who and what made the change."""

    now_iso: str
    now: datetime
    actor: str | None
    change_ref: str | None

    def status(self, change: Change, old: dict[str, Any] | None) -> dict[str, Any]:
        after = change.after or {}
        previous: dict[str, Any] = dict(old.get("status") or {}) if old is not None and change.action is Action.UPDATE else {}
        if change.kind == "customer":
            if change.action is Action.CREATE:
                previous[lc.RELATIONSHIP] = lc.initial_relationship(after)
            previous[lc.PROTECT] = bool(after.get("protect"))
            return previous
        if change.kind != "assignment":
            return previous
        restamp = (
            change.action is Action.CREATE
            or change.reason is Reason.RENEWED
            or (change.before or {}).get("expiry") != after.get("expiry")
        )
        previous.update({lc.GRANTED_AT: self.now_iso, lc.GRANTED_BY: self.actor, lc.CHANGE_REF: self.change_ref})
        if restamp:
            previous[lc.EXPIRES_AT] = lc.stamp_expiry(after["expiry"], self.now)
        previous.pop(lc.TOMBSTONE, None)
        previous.pop(lc.REMOVED_AT, None)
        return previous

    def tombstone(self, status: dict[str, Any]) -> dict[str, Any]:
        return {**status, lc.TOMBSTONE: lc.EXPIRED, lc.REMOVED_AT: self.now_iso}
