"""Notifications owed to customers: the records that go to ``outbox.jsonl``.

A managed customer's platform administrator may ask to hear whenever partner
access to their account is granted or removed (seed). accessplan does not send
mail; it records what is owed, one ``{time, customer, user, event, serial}``
record per partner user whose access to the customer was granted
(``access_granted``) or removed (``access_removed``), in the same commit as the
state change that caused it, so the outbox never claims a change that did not
happen and never misses one that did. A delivery process reads the outbox.

Settings live in the customer's state ``status`` (:func:`lifecycle.notification_settings`)
and are off until the customer turns them on (``accessplan customer
notifications``). They are read from the state *before* the write: a customer
created in the same apply has not asked for anything yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from accessplan import lifecycle as lc
from accessplan.plan import Action, Change, Reason

GRANTED, REMOVED = "access_granted", "access_removed"
_SETTING = {GRANTED: lc.ON_GRANT, REMOVED: lc.ON_REMOVAL}

Record = dict[str, Any]


def record(time: str, customer: str, user: str, event: str, serial: int) -> Record:
    """One outbox record (SPEC section 3)."""
    return {"customer": customer, "event": event, "serial": serial, "time": time, "user": user}


def event_of(change: Change) -> str | None:
    """The event an applied assignment change is to its customer, if any.

    A new assignment, or one granted again after it expired, grants access; a
    deleted one (removed from the manifest, expired, or its customer removed)
    removes it. An update changes what the access allows, not whether there is
    any, and is not announced.
    """
    if change.kind != "assignment":
        return None
    if change.action is Action.CREATE or (change.action is Action.UPDATE and change.reason is Reason.RENEWED):
        return GRANTED
    if change.action is Action.DELETE:
        return REMOVED
    return None


def wanted(customer_status: Mapping[str, Any] | None, event: str) -> bool:
    """Whether a customer asked for ``event``."""
    return lc.notification_settings(customer_status)[_SETTING[event]]


def for_changes(changes: Iterable[Change], current: Mapping[str, Mapping[str, Any]], *, serial: int, time: str) -> list[Record]:
    """Records for the applied ``changes``, for customers that asked; sorted by customer, user, event.

    ``current`` is the state's resources before the write (where the settings are).
    """
    out: list[Record] = []
    for change in changes:
        event = event_of(change)
        if event is None:
            continue
        _, customer, user = change.address.split("/", 2)
        res = current.get(f"customer/{customer}")
        if res is not None and wanted(res.get("status"), event):
            out.append(record(time, customer, user, event, serial))
    out.sort(key=lambda r: (r["customer"], r["user"], r["event"]))
    return out
