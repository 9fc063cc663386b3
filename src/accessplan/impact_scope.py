"""Which (account, person) pairs a plan can change the access of, and how to find their resources fast.

The access impact (:mod:`accessplan.impact`) compares each touched pair before
and after the plan. Comparing everyone would cost seconds in a large MSSP
(165,000 resources, 100,000 assignments), and most of a plan touches few
people; so the plan's changes say whom to compare:

* an assignment or user entry that changes: that person;
* a group: its members — only those who join or leave when only the member
  list changes, all of them (before and after) when its roles, products or log
  rules change;
* a custom role redefined in an account: its holders there, directly or
  through a group;
* a log set or log: every user of the account (with default log access every
  log user sees every log), and the account is judged with state as baseline;
* an account record: every user, but only if its licence or default log
  access changes (a rename or a label changes nobody's access).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accessplan.plan import Change

#: The fields of an account record that access depends on (a rename or a label changes nobody's access).
_ACCOUNT_ACCESS = ("default_all_logs", "licensed", "products")


@dataclass(slots=True)
class Touched:
    """What a plan touches: pairs, whole accounts, redefined roles (by account) and accounts whose logs change."""

    pairs: set[tuple[str, str]]
    whole: set[str]  # every user of the account is compared
    roles: dict[str, set[str]]  # account -> custom roles redefined there: their holders are compared
    logs: set[str]  # accounts whose log sets or logs change (whole, and judged with the state as baseline)

    @property
    def accounts(self) -> set[str]:
        return {a for a, _ in self.pairs} | self.whole | set(self.roles)


def touched(changes: Iterable[Change]) -> Touched:
    """The (account, user) pairs a plan touches, and the accounts touched as a whole."""
    found = Touched(set(), set(), {}, set())
    for change in changes:
        kind, account, name = (change.address.split("/", 2) + [""])[:3]
        if kind in ("assignment", "user"):
            found.pairs.add((account, name))
        elif kind == "group":
            before, after = change.before or {}, change.after or {}
            old, new = set(before.get("members") or ()), set(after.get("members") or ())
            if before and after and {**before, "members": None} == {**after, "members": None}:
                found.pairs.update((account, m) for m in old ^ new)  # only who joined or left
            else:
                found.pairs.update((account, m) for m in old | new)
        elif kind == "role":
            found.roles.setdefault(account, set()).add(name)
        elif kind in ("logset", "log"):
            found.whole.add(account)
            found.logs.add(account)
        elif kind in ("customer", "partner"):
            before, after = change.before or {}, change.after or {}
            if not (before and after) or any(before.get(k) != after.get(k) for k in _ACCOUNT_ACCESS):
                found.whole.add(account)
    return found


class Addresses:
    """The resources of chosen accounts, found without a pass over all of them.

    Addresses are ``kind/account/name``, so in sorted order the resources of
    one kind in one account form a run that a binary search finds. Desired
    resources and state are already sorted, which makes the sort itself
    linear. A plan touching a few accounts of a 165,000-resource MSSP reads
    just those.
    """

    _INSIDE = ("role", "logset", "log", "user", "assignment", "group")

    def __init__(self, specs: Mapping[str, Any], *, state: bool = False, skip: AbstractSet[str] = frozenset()) -> None:
        self.specs = specs
        self.state = state  # values are {"spec", "status"}: read their spec
        self.skip = skip
        self.keys = sorted(specs)

    def run(self, prefix: str) -> list[str]:
        """The sorted addresses that start with ``prefix`` (which ends with '/')."""
        keys = self.keys
        # Every address starting with "x/" sorts between "x/" and "x0" ('0' follows '/').
        return keys[bisect_left(keys, prefix):bisect_left(keys, prefix[:-1] + "0")]

    def under(self, account: str, kinds: Iterable[str] = _INSIDE) -> dict[str, Any]:
        """``{address: spec}`` of every resource of ``kinds`` inside ``account``."""
        specs, skip = self.specs, self.skip
        out: dict[str, Any] = {}
        for kind in kinds:
            run = self.run(f"{kind}/{account}/")
            if self.state:
                out.update({addr: specs[addr]["spec"] for addr in run if addr not in skip})
            else:
                out.update({addr: specs[addr] for addr in run})
        return out

    def subset(self, accounts: Iterable[str]) -> dict[str, Any]:
        """Every resource of ``accounts``: their records and what lies inside them."""
        out: dict[str, Any] = {}
        for account in accounts:
            for kind in ("partner", "customer"):
                addr = f"{kind}/{account}"
                if addr in self.specs:
                    out[addr] = self.specs[addr]["spec"] if self.state else self.specs[addr]
            out.update(self.under(account))
        return out

    def everything(self) -> dict[str, Any]:
        if self.state:
            return {addr: res["spec"] for addr, res in self.specs.items() if addr not in self.skip}
        return dict(self.specs)


def role_holders(found: Addresses, roles: Mapping[str, AbstractSet[str]]) -> set[tuple[str, str]]:
    """Everyone holding one of ``roles`` (per account), directly or through a group.

    A redefined role changes the access of its holders only: in a large MSSP,
    a role used by a group in most customers reaches thousands of analysts, but
    far fewer than everyone in those customers.
    """
    out: set[tuple[str, str]] = set()
    for account, names in roles.items():
        for addr, spec in found.under(account, ("assignment", "user", "group")).items():
            if names.isdisjoint(spec.get("roles") or ()):
                continue
            kind, _, name = addr.split("/", 2)
            if kind == "group":
                out.update((account, member) for member in spec.get("members") or ())
            else:
                out.add((account, name))
    return out
