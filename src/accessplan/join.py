"""The keyed join behind :func:`accessplan.plan.make_plan`.

Desired resources and state resources are matched by address. Assignments go
first, because their fate (expired, still expired, granted again) decides which
group memberships survive; then groups, with the members whose assignment is
dead filtered out; then every other kind. The result also carries the
*effective* desired resources — the manifest as it will actually stand after
the plan, dead assignments and their memberships removed — which escalations are
judged on.

Cost: one pass over the union of addresses, ``==`` per pair, and a field diff
only for the specs that differ.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accessplan import lifecycle as lc
from accessplan.desired import Resources, Spec, split_address
from accessplan.plan import Action, Change, Reason, Warning
from accessplan.specdiff import spec_diff

StateResources = Mapping[str, Mapping[str, Any]]

_NO_STATUS: Mapping[str, Any] = {}
_BLOCK_REASON = {lc.PENDING: Reason.CUSTOMER_PENDING, lc.REVOKED: Reason.CUSTOMER_REVOKED}


@dataclass(slots=True)
class JoinResult:
    now_iso: str
    changes: list[Change] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    effective: Resources = field(default_factory=dict)
    #: customer id -> why changes inside it are deferred (pending or revoked)
    blocked: dict[str, Reason] = field(default_factory=dict)
    #: assignments of state that give no access now: tombstones, and those past expires_at
    lapsed: set[str] = field(default_factory=set)
    #: whether ``effective`` lost something of the desired resources (a dead assignment, a membership)
    trimmed: bool = False


def resolved_alike(have: Spec, want: Spec, expires_at: str | None) -> bool:
    """Whether ``want`` differs from ``have`` only by naming, as an absolute ``until``, the end a relative expiry resolved to.

    ``accessplan export`` writes a 48-hour grant applied at 09:00 as ``until``
    09:00 two days later, so that the exported manifest means the same in any
    state; planning it against the state it came from must show no change.
    """
    relative = have.get("expiry")
    if expires_at is None or not (isinstance(relative, str) and relative[-1:] == "h" and relative[:-1].isdigit()):
        return False
    if want.get("expiry") in (relative, lc.PERMANENT) or lc.absolute_end(want["expiry"]) != expires_at:
        return False
    return {**have, "expiry": want.get("expiry")} == want


def create(address: str, after: Spec, reason: Reason = Reason.NEW) -> Change:
    return Change(address, Action.CREATE, reason, None, after)


def delete(address: str, before: Spec, reason: Reason) -> Change:
    return Change(address, Action.DELETE, reason, before, None)


def update(address: str, before: Spec, after: Spec, reason: Reason, action: Action = Action.UPDATE) -> Change:
    added, removed, changed = spec_diff(before, after)
    return Change(address, action, reason, before, after, added, removed, changed)


def defer(address: str, before: Spec | None, after: Spec | None, reason: Reason) -> Change:
    if before is not None and after is not None:
        return update(address, before, after, reason, Action.DEFER)
    return Change(address, Action.DEFER, reason, before, after)


def _by_kind(desired: Resources, current: StateResources) -> dict[str, list[str]]:
    """Every address of either side, grouped by kind (the part before the first '/'), each group sorted.

    Sorted, a kind's addresses form one run, found by binary search: the
    kind is worked out once per run, not once per address (165,000 of them at
    the large size). Desired resources come sorted already, so sorting them
    is linear.
    """
    out: dict[str, list[str]] = {}
    for keys in (sorted(desired), sorted(current.keys() - desired.keys())):
        i = 0
        while i < len(keys):
            kind = keys[i].partition("/")[0]
            # Every address starting with "kind/" sorts before "kind0" ('0' follows '/').
            end = max(bisect_left(keys, kind + "0", i), i + 1)
            out.setdefault(kind, []).extend(keys[i:end])
            i = end
    return out


class _Join:
    """One join's working data; :func:`join` drives it."""

    def __init__(self, desired: Resources, current: StateResources, now: datetime) -> None:
        self.desired = desired
        self.current = current
        self.now = now
        self.result = JoinResult(now_iso=lc.iso(now), effective=dict(desired))
        self.removed: set[str] = set()  # customers leaving the manifest
        self.dead: dict[str, set[str]] = {}  # customer -> partner users whose assignment is dead after the plan
        self.ends: dict[str, str | None] = {}  # expiry -> its end if it is an absolute time already past
        #: unchanged live assignments that have an end (None: not collected, look at every assignment)
        self.ending: list[str] | None = None

    # --- customers ------------------------------------------------------------
    def customers(self, addresses: list[str]) -> None:
        for addr in addresses:
            cid = addr.split("/", 1)[1]
            want = self.desired.get(addr)
            res = self.current.get(addr)
            if want is None:
                self.removed.add(cid)
                continue
            rel = lc.relationship(res.get("status")) if res is not None else lc.initial_relationship(want)
            if rel in _BLOCK_REASON:
                self.result.blocked[cid] = _BLOCK_REASON[rel]

    def protected_removals(self) -> list[str]:
        out = []
        for cid in sorted(self.removed):
            status = self.current[f"customer/{cid}"].get("status") or {}
            if status.get(lc.PROTECT):
                out.append(cid)
        return out

    def blocked(self, account: str) -> Reason | None:
        if account in self.removed:
            return None
        return self.result.blocked.get(account)

    def gone_reason(self, account: str) -> Reason:
        return Reason.CUSTOMER_REMOVED if account in self.removed else Reason.REMOVED_FROM_MANIFEST

    # --- the generic rule -----------------------------------------------------
    def plain(self, addr: str, want: Spec | None, have: Spec | None, account: str | None, changed: Reason = Reason.CHANGED) -> None:
        if want is not None and want == have:
            return
        blocked = self.blocked(account) if account is not None else None
        change: Change | None = None
        if have is None:
            if want is not None:
                change = defer(addr, None, want, blocked) if blocked else create(addr, want)
        elif want is None:
            gone = self.gone_reason(account) if account is not None else Reason.REMOVED_FROM_MANIFEST
            if blocked and gone is Reason.REMOVED_FROM_MANIFEST:
                change = defer(addr, have, None, blocked)
            else:
                change = delete(addr, have, gone)
        elif want != have:
            change = defer(addr, have, want, blocked) if blocked else update(addr, have, want, changed)
        if change is not None:
            self.result.changes.append(change)

    # --- assignments ----------------------------------------------------------
    def kill(self, addr: str, cid: str, email: str) -> None:
        """The pair is dead after this plan: no assignment, no memberships."""
        self.dead.setdefault(cid, set()).add(email)
        self.result.effective.pop(addr, None)
        self.result.trimmed = True

    def grant_ended(self, want: Spec) -> str | None:
        expiry = want["expiry"]
        if expiry not in self.ends:  # few distinct values: parse each once
            end = lc.absolute_end(expiry)
            self.ends[expiry] = end if end is not None and end <= self.result.now_iso else None
        return self.ends[expiry]

    def assignments(self, addresses: list[str]) -> None:
        """Every assignment, the common case — live, unexpired, still granted — inline: a large MSSP has 100,000."""
        desired, current, now_iso, ends = self.desired, self.current, self.result.now_iso, self.ends
        expires_at, tombstone = lc.EXPIRES_AT, lc.TOMBSTONE  # looked up once, not 100,000 times
        quick = not self.removed
        ending = self.ending = [] if quick else None
        for addr in addresses:
            want = desired.get(addr)
            res = current.get(addr)
            if quick and want is not None and res is not None:
                status = res.get("status") or _NO_STATUS
                end = status.get(expires_at)
                expiry = want["expiry"]
                ended = ends[expiry] if expiry in ends else self.grant_ended(want)
                if tombstone not in status and (end is None or end > now_iso) and not ended:
                    have = res["spec"]
                    if have != want and not resolved_alike(have, want, end):
                        self.plain(addr, want, have, split_address(addr)[1])
                    elif end is not None and ending is not None:
                        ending.append(addr)  # unchanged, with an end: the expiry warning looks at it
                    continue
            self.assignment(addr, want, res)

    def assignment(self, addr: str, want: Spec | None, res: Mapping[str, Any] | None) -> None:
        """One assignment that is new, gone, expired, a tombstone, or inside a customer being removed."""
        _, cid, email = split_address(addr)
        now_iso = self.result.now_iso
        if res is not None and (lc.is_tombstone(res.get("status")) or lc.has_expired(res.get("status"), now_iso)):
            self.result.lapsed.add(addr)
        blocked = self.blocked(cid)
        if res is None or cid in self.removed:
            if res is not None and lc.is_tombstone(res.get("status")):
                self.result.forget.append(addr)
                return
            if want is not None and self.grant_ended(want) and cid not in self.removed:
                self.kill(addr, cid, email)
                self.warn_ended(addr, want)
                return
            self.plain(addr, want, res["spec"] if res is not None else None, cid)
            return
        have: Spec = res["spec"]
        status = res.get("status") or {}
        if lc.is_tombstone(status):
            if want is None:
                self.result.forget.append(addr)
            elif want["expiry"] == have["expiry"]:
                self.kill(addr, cid, email)
            elif self.grant_ended(want):
                self.kill(addr, cid, email)
                self.warn_ended(addr, want)
            else:
                self.result.changes.append(defer(addr, None, want, blocked) if blocked else create(addr, want, Reason.RENEWED))
            return
        ended = want is not None and self.grant_ended(want)
        if lc.has_expired(status, now_iso) or ended:
            if want is not None and not ended and want["expiry"] != have["expiry"]:
                self.result.changes.append(defer(addr, have, want, blocked) if blocked else update(addr, have, want, Reason.RENEWED))
                return
            self.result.changes.append(delete(addr, have, Reason.EXPIRED))
            if want is not None:
                self.kill(addr, cid, email)
            else:
                self.result.forget.append(addr)  # no tombstone for a pair the manifest no longer grants
            return
        if want is not None and resolved_alike(have, want, lc.expires_at(status)):
            return
        self.plain(addr, want, have, cid)

    def warn_ended(self, addr: str, want: Spec) -> None:
        self.result.warnings.append(
            Warning(addr, "grant_ended", f"not granted: its grant ended at {want['expiry']}; change or remove the grant")
        )

    # --- groups ---------------------------------------------------------------
    def group(self, addr: str) -> None:
        want = self.desired.get(addr)
        res = self.current.get(addr)
        account = split_address(addr)[1]
        have = res["spec"] if res is not None else None
        gone = self.dead.get(account)
        reason = Reason.CHANGED
        if gone and want is not None:
            members = [m for m in want["members"] if m not in gone]
            if len(members) != len(want["members"]):
                want = {**want, "members": members}
                self.result.effective[addr] = want
                self.result.trimmed = True
            if have is not None and have != want:
                kept = [m for m in have["members"] if m not in gone]
                if kept != have["members"] and {**have, "members": kept} == want:
                    reason = Reason.EXPIRED
        self.plain(addr, want, have, account, reason)

    # --- warnings -------------------------------------------------------------
    def expiring(self, addresses: list[str], window_hours: int) -> None:
        """Warn about live assignments ending within ``window_hours`` after this plan."""
        now_iso = self.result.now_iso
        horizon = lc.iso(self.now + timedelta(hours=window_hours))
        touched = {c.address: c for c in self.result.changes if c.address.startswith("assignment/")}
        effective, current = self.result.effective, self.current
        if self.ending is not None:  # the assignment pass collected the unchanged ones with an end
            addresses = [*touched, *self.ending]
        for addr in addresses:
            change = touched.get(addr)
            if change is None:
                # The common case, kept cheap: an unchanged assignment keeps the end state stamped.
                res = current.get(addr)
                status = res.get("status") if res is not None else None
                end = status.get(lc.EXPIRES_AT) if status else None
                if type(end) is not str or end <= now_iso or end > horizon or addr not in effective:
                    continue
            else:
                spec = effective.get(addr)
                if spec is None or change.action is Action.DEFER or change.action is Action.DELETE:
                    continue
                res = current.get(addr)
                expiry_changed = res is None or change.reason is Reason.RENEWED or res["spec"].get("expiry") != spec["expiry"]
                end = lc.stamp_expiry(spec["expiry"], self.now) if expiry_changed else lc.expires_at(res.get("status") if res else None)
            if end is not None and now_iso < end <= horizon:
                left = lc.hours_text(lc.parse_time(end) - self.now)
                self.result.warnings.append(Warning(addr, "expiring", f"access expires at {end} (in {left})"))

    def licenses(self, addresses: list[str]) -> None:
        today = self.now.date().isoformat()
        for addr in addresses:
            spec = self.desired.get(addr)
            if spec is None:
                continue
            poc = spec.get("poc")
            if poc and poc["expires"] < today:
                products = ", ".join(poc["products"])
                self.result.warnings.append(
                    Warning(addr, "license_expired", f"POC license for {products} expired on {poc['expires']}; the product is no longer licensed")
                )
            for lic in spec.get("poc_licenses") or ():
                if lic["expires"] < today:
                    self.result.warnings.append(
                        Warning(
                            addr,
                            "license_expired",
                            f"POC license for {lic['product']} expired on {lic['expires']}; the product is no longer licensed",
                        )
                    )


def join(desired: Resources, current: StateResources, now: datetime, *, expiry_warning_hours: int | None = None) -> JoinResult:
    """The changes from ``current`` (state resources) to ``desired`` (specs) at ``now``."""
    from accessplan.errors import PlanRefused

    j = _Join(desired, current, now)
    kinds = _by_kind(desired, current)
    j.customers(kinds.get("customer", []))
    protected = j.protected_removals()
    if protected:
        names = ", ".join(f"'{c}'" for c in protected)
        one = len(protected) == 1
        raise PlanRefused(
            f"the plan would remove protected customer{'' if one else 's'} {names}",
            f"state marks {'it' if one else 'them'} protected: apply 'protect: false' first, then remove {'it' if one else 'them'}",
        )
    j.assignments(kinds.get("assignment", []))
    for addr in kinds.get("group", ()):
        j.group(addr)
    for kind, addresses in kinds.items():
        if kind in ("assignment", "group"):
            continue
        whole_account = kind in ("partner", "customer")
        for addr in addresses:
            want = desired.get(addr)
            res = current.get(addr)
            have = res["spec"] if res is not None else None
            if want is not None and want == have:
                continue
            j.plain(addr, want, have, None if whole_account else split_address(addr)[1])
    if expiry_warning_hours:
        j.expiring(kinds.get("assignment", []), expiry_warning_hours)
    j.licenses(kinds.get("customer", []))
    return j.result
