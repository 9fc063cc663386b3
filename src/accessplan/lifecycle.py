"""The words state's ``status`` speaks: relationships, tombstones, expiry times.

A resource in state is ``{"spec": ..., "status": ...}``. The plan diffs ``spec``;
``status`` is what the platform observed and what drives the lifecycle (SPEC
section 4). Every module that reads or writes a status goes through the names
and helpers here, so that the planner, apply, and the customer-side commands of
a later issue agree on one vocabulary:

* customer: ``relationship`` (``pending``, ``approved``, ``revoked``), who
  changed it and when (``approved_at``/``approved_by``,
  ``revoked_at``/``revoked_by``: the customer's side, through ``accessplan
  customer``), ``notifications`` (``{"on_grant": bool, "on_removal": bool}``,
  off until the customer turns them on) and ``protect`` (copied from the spec at
  each apply, so that removing a protected customer needs ``protect: false``
  applied first);
* assignment: ``granted_at``, ``granted_by``, ``change_ref`` (provenance),
  ``expires_at`` (``None`` for permanent), and once expired ``tombstone:
  "expired"`` with ``removed_at`` — an expired assignment stays in state as a
  tombstone so that an unchanged grant does not bring it back.

Times are UTC ISO 8601 strings with a ``Z`` (``2026-11-23T09:00:00Z``): they
sort as text, and a state document is read by people as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

RELATIONSHIP = "relationship"
PENDING, APPROVED, REVOKED = "pending", "approved", "revoked"
#: Relationships under which nothing inside the customer's account may change.
BLOCKING = frozenset({PENDING, REVOKED})

PROTECT = "protect"
TOMBSTONE = "tombstone"
EXPIRED = "expired"
EXPIRES_AT = "expires_at"
GRANTED_AT = "granted_at"
GRANTED_BY = "granted_by"
CHANGE_REF = "change_ref"
REMOVED_AT = "removed_at"
NOTIFICATIONS = "notifications"
ON_GRANT, ON_REMOVAL = "on_grant", "on_removal"
#: The review's ``status`` of an assignment whose pair is past its expiry.
EXPIRED_STANDING = "expired"

PERMANENT = "permanent"


def iso(moment: datetime) -> str:
    """A UTC time as state and plans write it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """The inverse of :func:`iso` (any ISO 8601 time; naive means UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def relationship(status: Mapping[str, Any] | None) -> str:
    """A customer's relationship; a status that does not say counts as approved.

    Only accessplan writes customer statuses, and it always sets the key; a
    state assembled by hand without it describes customers already managed.
    """
    if not status:
        return APPROVED
    value = status.get(RELATIONSHIP, APPROVED)
    return value if isinstance(value, str) else APPROVED


def initial_relationship(spec: Mapping[str, Any]) -> str:
    """A new customer starts ``pending``; a POC prospect, created by the partner, ``approved``."""
    return APPROVED if spec.get("poc") else PENDING


def is_tombstone(status: Mapping[str, Any] | None) -> bool:
    return bool(status) and status.get(TOMBSTONE) is not None  # type: ignore[union-attr]


def expires_at(status: Mapping[str, Any] | None) -> str | None:
    if not status:
        return None
    value = status.get(EXPIRES_AT)
    return value if isinstance(value, str) else None


def has_expired(status: Mapping[str, Any] | None, now_iso: str) -> bool:
    """Whether a live assignment's ``expires_at`` is at or before ``now``.

    Both sides are :func:`iso` strings, which compare correctly as text.
    """
    end = expires_at(status)
    return end is not None and end <= now_iso


def stamp_expiry(expiry: str, at: datetime) -> str | None:
    """``expires_at`` for an assignment spec's ``expiry`` granted at ``at``.

    ``permanent`` -> ``None``; ``"<n>h"`` -> ``at`` + n hours; an absolute time
    is its own end.
    """
    if expiry == PERMANENT:
        return None
    if expiry.endswith("h") and expiry[:-1].isdigit():
        return iso(at + timedelta(hours=int(expiry[:-1])))
    return iso(parse_time(expiry))


def absolute_end(expiry: str) -> str | None:
    """The end of an ``until`` expiry (an ISO time), ``None`` for relative or permanent ones."""
    if expiry == PERMANENT or (expiry.endswith("h") and expiry[:-1].isdigit()):
        return None
    return iso(parse_time(expiry))


def hours_text(delta: timedelta) -> str:
    """A short human duration, rounded down to hours: ``"36h"``, ``"3d"``."""
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48 and hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


def notification_settings(status: Mapping[str, Any] | None) -> dict[str, bool]:
    """A customer's notification settings; both off until the customer turns them on."""
    raw = (status or {}).get(NOTIFICATIONS) or {}
    return {ON_GRANT: raw.get(ON_GRANT) is True, ON_REMOVAL: raw.get(ON_REMOVAL) is True}


def standing(customer_status: Mapping[str, Any] | None, in_state: bool, assignment_status: Mapping[str, Any] | None,
             desired_expiry: str | None, now_iso: str, *, initial: str = PENDING) -> str:
    """What an access review calls an assignment: ``pending``, ``approved``, ``revoked`` or ``expired``.

    The customer's relationship comes first (nothing is live under a pending or
    revoked customer); then an assignment that is a tombstone, is past its
    ``expires_at``, or whose grant's ``until`` has passed is ``expired``.
    ``in_state`` says whether the customer is in state at all; if not, it is
    ``initial`` (what the next apply would create it as).
    """
    rel = relationship(customer_status) if in_state else initial
    if rel in BLOCKING:
        return rel
    if is_tombstone(assignment_status) or has_expired(assignment_status, now_iso):
        return EXPIRED_STANDING
    if desired_expiry is not None:
        end = absolute_end(desired_expiry)
        if end is not None and end <= now_iso:
            return EXPIRED_STANDING
    return APPROVED


def review_statuses(desired: Mapping[str, Mapping[str, Any]], resources: Mapping[str, Mapping[str, Any]],
                    now_iso: str) -> dict[str, dict[str, Any]]:
    """``{assignment address: {granted_at, granted_by, change_ref, status}}`` for an access review.

    ``desired`` are the manifest's resources, ``resources`` the state's. The
    provenance comes from the assignment's status in state (empty when it was
    never applied, or was removed by a revocation); ``status`` is its
    :func:`standing`.
    """
    out: dict[str, dict[str, Any]] = {}
    for addr, spec in desired.items():
        if not addr.startswith("assignment/"):
            continue
        cid = addr.split("/", 2)[1]
        customer = resources.get(f"customer/{cid}")
        res = resources.get(addr)
        status = (res.get("status") if res is not None else None) or {}
        want = desired.get(f"customer/{cid}") or {}
        out[addr] = {
            CHANGE_REF: status.get(CHANGE_REF),
            GRANTED_AT: status.get(GRANTED_AT),
            GRANTED_BY: status.get(GRANTED_BY),
            "status": standing(
                customer.get("status") if customer is not None else None,
                customer is not None,
                status,
                spec.get("expiry"),
                now_iso,
                initial=initial_relationship(want),
            ),
        }
    return out
