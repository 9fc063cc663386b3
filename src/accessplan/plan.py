"""The plan: what an apply would change, as frozen data that sorts itself.

A plan is a keyed join of the desired resources (``{address: spec}`` from
:mod:`accessplan.desired`) with the resources of the current state, by address.
Specs are compared with ``==`` first; only the few that differ get a field-level
diff (:mod:`accessplan.specdiff`). Each :class:`Change` has an :class:`Action`
and one :class:`Reason` from a fixed set, documented below and in the README.

The lifecycle (SPEC section 4) is read from state ``status``
(:mod:`accessplan.lifecycle`): what lies under a pending or revoked customer is
deferred; an assignment past its ``expires_at`` is removed and kept as a
tombstone that an unchanged grant does not bring back.

Rendering (:mod:`accessplan.render`) and applying (:mod:`accessplan.apply`) only
read a plan. ``content_hash`` covers everything in the plan, so that a saved
plan that was altered is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import orjson

from accessplan.desired import KIND_RANK, KINDS, Resources, Spec
from accessplan.escalation import Escalation
from accessplan.impact import Impact

if TYPE_CHECKING:
    from accessplan.access import AccessModel
    from accessplan.state import State

FORMAT_VERSION = 1


class Action(StrEnum):
    """What a change does: ``+ create``, ``~ update``, ``- delete``, ``> defer``."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    DEFER = "defer"  # listed, not applied: the customer has not approved (or has revoked)


class Reason(StrEnum):
    """Why a change is in the plan. The set is fixed; the README lists it."""

    NEW = "new"  # in the manifest, not in state
    CHANGED = "changed"  # the manifest's spec differs from state's
    REMOVED_FROM_MANIFEST = "removed_from_manifest"  # in state, gone from the manifest
    CUSTOMER_REMOVED = "customer_removed"  # inside a customer that is being removed
    EXPIRED = "expired"  # an assignment past expires_at (or its grant's `until`), or its group memberships
    RENEWED = "renewed"  # an expired assignment granted again by a new duration/until
    CUSTOMER_PENDING = "customer_pending"  # deferred: the customer has not approved the partner yet
    CUSTOMER_REVOKED = "customer_revoked"  # deferred: the customer revoked the partner
    LICENSE_EXPIRED = "license_expired"  # what a POC license carried, gone with the license
    USER_REMOVED = "user_removed"  # a deleted partner user's assignments and group memberships


@dataclass(frozen=True, slots=True)
class Change:
    """One resource's change; ``added``/``removed``/``changed`` only for updates (and defers of updates)."""

    address: str
    action: Action
    reason: Reason
    before: Spec | None = None
    after: Spec | None = None
    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.address.split("/", 1)[0]

    def sort_key(self) -> tuple[int, int, str]:
        """Creates and updates parents first, then deletes children first, then deferred entries.

        That is the order a real platform needs: an account exists before its
        users are added, and a group drops a member before the member goes.
        """
        rank = KIND_RANK.get(self.kind, len(KINDS))
        if self.action is Action.DELETE:
            return (1, -rank, self.address)
        if self.action is Action.DEFER:
            return (2, rank, self.address)
        return (0, rank, self.address)

    def __lt__(self, other: Change) -> bool:
        return self.sort_key() < other.sort_key()

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "added": self.added,
            "address": self.address,
            "after": self.after,
            "before": self.before,
            "changed": self.changed,
            "reason": self.reason.value,
            "removed": self.removed,
        }

    @staticmethod
    def from_json(doc: dict[str, Any]) -> Change:
        return Change(
            address=str(doc["address"]),
            action=Action(doc["action"]),
            reason=Reason(doc["reason"]),
            before=_mapping_or_none(doc["before"]),
            after=_mapping_or_none(doc["after"]),
            added=dict(doc["added"]),
            removed=dict(doc["removed"]),
            changed=dict(doc["changed"]),
        )


@dataclass(frozen=True, slots=True)
class Warning:
    """Something a reviewer should know that does not stop the plan."""

    address: str
    kind: str  # expiring | grant_ended | license_expired | license_expiring | policy
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole plan. ``lineage``/``serial`` are ``None`` when there was no state yet."""

    partner: str
    state_location: str
    lineage: str | None
    serial: int | None
    created_at: str
    changes: tuple[Change, ...]
    escalations: tuple[Escalation, ...] = ()
    impact: tuple[Impact, ...] = ()  # who gains or loses which access (accessplan.impact)
    warnings: tuple[Warning, ...] = ()
    forget: tuple[str, ...] = ()  # expired tombstones no longer in the manifest: dropped at the next write
    desired_hash: str = ""
    content_hash: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def state_empty(self) -> bool:
        return self.lineage is None

    @property
    def applicable(self) -> tuple[Change, ...]:
        """The changes an apply writes: every one that is not deferred."""
        return tuple(c for c in self.changes if c.action is not Action.DEFER)

    @property
    def has_changes(self) -> bool:
        """Whether applying would change anything (deferred entries are not changes)."""
        return any(c.action is not Action.DEFER for c in self.changes)

    @property
    def summary(self) -> dict[str, int]:
        counts = {action: 0 for action in Action}
        for change in self.changes:
            counts[change.action] += 1
        return {
            "add": counts[Action.CREATE],
            "change": counts[Action.UPDATE],
            "defer": counts[Action.DEFER],
            "destroy": counts[Action.DELETE],
        }

    def body(self) -> dict[str, Any]:
        """Everything in the plan except its own hash (what the hash covers)."""
        return {
            "changes": [c.to_json() for c in self.changes],
            "created_at": self.created_at,
            "desired_hash": self.desired_hash,
            "escalations": [e.to_json() for e in self.escalations],
            "forget": list(self.forget),
            "format_version": self.format_version,
            "impact": [i.to_json() for i in self.impact],
            "lineage": self.lineage,
            "partner": self.partner,
            "serial": self.serial,
            "state": self.state_location,
            "state_empty": self.state_empty,
            "summary": self.summary,
            "warnings": [w.to_json() for w in self.warnings],
        }

    def compute_hash(self) -> str:
        return "sha256:" + hashlib.sha256(orjson.dumps(self.body(), option=orjson.OPT_SORT_KEYS)).hexdigest()

    def sealed(self) -> Plan:
        """This plan with its ``content_hash`` filled in."""
        return dataclasses.replace(self, content_hash=self.compute_hash())

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "content_hash": self.content_hash}

    def to_bytes(self) -> bytes:
        """The canonical JSON document: keys sorted, indented, newline-terminated."""
        return orjson.dumps(self.to_json(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"

    @staticmethod
    def from_json(doc: dict[str, Any]) -> Plan:
        """Rebuild a plan from :meth:`to_json`; KeyError/ValueError/TypeError on a wrong shape."""
        lineage = doc["lineage"]
        serial = doc["serial"]
        return Plan(
            partner=str(doc["partner"]),
            state_location=str(doc["state"]),
            lineage=None if lineage is None else str(lineage),
            serial=None if serial is None else int(serial),
            created_at=str(doc["created_at"]),
            changes=tuple(Change.from_json(c) for c in doc["changes"]),
            escalations=tuple(Escalation.from_json(e) for e in doc["escalations"]),
            impact=tuple(Impact.from_json(i) for i in doc["impact"]),
            warnings=tuple(Warning(str(w["address"]), str(w["kind"]), str(w["message"])) for w in doc["warnings"]),
            forget=tuple(str(a) for a in doc["forget"]),
            desired_hash=str(doc["desired_hash"]),
            content_hash=str(doc["content_hash"]),
            format_version=int(doc["format_version"]),
        )


def _mapping_or_none(value: Any) -> Spec | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("a spec must be a mapping")
    return value


def desired_hash(desired: Resources) -> str:
    """A hash of the desired resources, recorded in the plan (as Terraform records its config)."""
    return "sha256:" + hashlib.sha256(orjson.dumps(desired, option=orjson.OPT_SORT_KEYS)).hexdigest()


def make_plan(
    desired: Resources,
    state: State | None,
    now: datetime,
    *,
    state_location: str = "",
    expiry_warning_hours: int | None = None,
    escalations: bool = True,
    desired_model: AccessModel | None = None,
) -> Plan:
    """Join ``desired`` with ``state`` at time ``now``; a sealed, sorted plan.

    ``escalations=False`` skips comparing effective access (no escalations, no
    access impact): for callers that only need the changes. ``desired_model``:
    the access engine over ``desired``, if the caller built it already
    (``validate`` does); it is reused unless the plan removes something.

    Raises :class:`~accessplan.errors.PlanRefused` when the plan would remove a
    customer that state marks ``protect``.
    """
    from accessplan.join import join  # the join's machinery, kept apart for size

    if state is not None and state.partner and f"partner/{state.partner}" in desired:
        partner = state.partner  # the usual case, without a walk over 165,000 addresses to find it
    else:
        partner = next((a.split("/", 1)[1] for a in desired if a.startswith("partner/")), state.partner if state else "")
    current = state.resources if state is not None else {}
    result = join(desired, current, now, expiry_warning_hours=expiry_warning_hours)
    found: tuple[Escalation, ...] = ()
    impact: tuple[Impact, ...] = ()
    if escalations and result.changes:
        from accessplan.impact import access_impact

        reuse = desired_model if not result.trimmed else None
        impact, found = access_impact(current, result.effective, result.changes, result.blocked, result.lapsed, desired_model=reuse)
    plan = Plan(
        partner=partner or "",
        state_location=state_location,
        lineage=state.lineage if state is not None else None,
        serial=state.serial if state is not None else None,
        created_at=result.now_iso,
        changes=tuple(sorted(result.changes, key=Change.sort_key)),
        escalations=found,
        impact=impact,
        warnings=tuple(sorted(result.warnings, key=lambda w: (w.address, w.kind, w.message))),
        forget=tuple(sorted(result.forget)),
        desired_hash=desired_hash(desired),
    )
    return plan.sealed()
