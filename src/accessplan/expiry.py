"""What a manifest can only learn about expiry from state: grants that have run out.

A grant with a relative ``duration`` is anchored at the apply that creates its
assignment. Once that assignment has expired, the plan removes it and keeps a
tombstone, and an unchanged grant does not bring it back: the grant is *stale*,
still written in the manifest but granting nothing. ``validate`` (given a state)
and ``plan`` warn about it at the grant's position, so that the grant is
removed, or given a new duration on purpose.
"""

from __future__ import annotations

from datetime import datetime

from accessplan import lifecycle as lc
from accessplan.errors import Diagnostic
from accessplan.loader import Manifest
from accessplan.resolve import Resolved
from accessplan.state import State

_LIMIT = 3  # pairs named in one warning before "and N more"


def stale_grant_diagnostics(manifest: Manifest, resolved: Resolved, state: State | None, now: datetime) -> list[Diagnostic]:
    """One warning per grant whose relative expiry has passed for some of its assignments."""
    if state is None:
        return []
    now_iso = lc.iso(now)
    stale: dict[int, list[tuple[str, str, str]]] = {}  # grant index -> (customer, user, expired at)
    for (cid, email), assignment in resolved.assignments.items():
        if assignment.expiry.hours is None:
            continue
        res = state.resources.get(f"assignment/{cid}/{email}")
        if res is None or res["spec"].get("expiry") != assignment.expiry.as_spec():
            continue  # not granted yet, or the duration changed: the next apply grants it afresh
        status = res.get("status") or {}
        if not (lc.is_tombstone(status) or lc.has_expired(status, now_iso)):
            continue
        ended = lc.expires_at(status) or status.get(lc.REMOVED_AT) or "an earlier apply"
        for source in assignment.sources:
            if source.kind == "grant" and manifest.grants[source.index].duration not in (None, lc.PERMANENT):
                stale.setdefault(source.index, []).append((cid, email, str(ended)))
    out: list[Diagnostic] = []
    for index, pairs in sorted(stale.items()):
        grant = manifest.grants[index]
        pairs.sort()
        named = ", ".join(f"{email} at {cid} (expired {ended})" for cid, email, ended in pairs[:_LIMIT])
        if len(pairs) > _LIMIT:
            named += f" and {len(pairs) - _LIMIT} more"
        out.append(
            Diagnostic(
                "warning",
                manifest.where(grant, "duration"),
                f"the grant's {grant.duration} access has expired for {named}; it is not granted again while the grant is unchanged",
                "remove the grant, or give it a new duration to grant the access again",
                "stale-grant",
            )
        )
    return out
