"""Effective-access findings about a manifest, as diagnostics for ``validate``.

Two kinds:

* privilege conflicts (SPEC section 5) are *warnings* — the platform resolves
  them by least privilege, but someone meant something else; ``--strict``
  makes them errors;
* a distribution list (seed: a shared mailbox used as a login) whose effective
  access, groups included, goes above View Only is an *error*.

Each is placed where a reader can fix it: a conflict inside a group at the
group; a user's conflict at the first grant of the assignment (or at the POC
entry that created it), or at the user's entry for an account's own people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accessplan.access import Access, AccessModel, Conflict, FeatureLevel
from accessplan.catalog import LEVELS, load_catalog
from accessplan.desired import desired_resources
from accessplan.errors import Diagnostic, Position
from accessplan.loader import Manifest
from accessplan.model import Customer, Group, User
from accessplan.resolve import Resolved


class _Places:
    """Positions of the manifest objects that access findings point at."""

    def __init__(self, manifest: Manifest, resolved: Resolved) -> None:
        self.manifest = manifest
        self.resolved = resolved
        self.groups: dict[tuple[str, str], Group] = {}
        self.users: dict[tuple[str, str], User] = {}
        self.customers: dict[str, Customer] = {c.id: c for c in manifest.customers}
        for account in (manifest.partner, *manifest.customers):
            for group in account.groups:
                self.groups.setdefault((account.id, group.name), group)
            for user in account.users:
                self.users.setdefault((account.id, user.email), user)

    def group(self, account: str, name: str) -> Position:
        group = self.groups.get((account, name))
        return self.manifest.where(group) if group is not None else Position(self.manifest.root)

    def user(self, account: str, email: str) -> Position:
        """The first grant giving the assignment, else the user's entry in the account."""
        assignment = self.resolved.assignments.get((account, email))
        if assignment is not None and assignment.sources:
            source = assignment.sources[0]
            customer = self.customers[account]
            if source.kind == "grant":
                return self.manifest.where(self.manifest.grants[source.index])
            if source.kind == "poc_first_user" and customer.poc is not None:
                return self.manifest.where(customer.poc, "first_user")
            if source.kind == "poc_license":
                return self.manifest.where(customer.poc_licenses[source.index])
        user = self.users.get((account, email))
        return self.manifest.where(user) if user is not None else Position(self.manifest.root)

    def origin(self, account: str, email: str, group: str | None) -> Position:
        return self.user(account, email) if group is None else self.group(account, group)


def access_diagnostics(
    manifest: Manifest, resolved: Resolved, resources: Mapping[str, Mapping[str, Any]] | None = None, *, model: AccessModel | None = None
) -> list[Diagnostic]:
    """Conflicts (warnings) and distribution lists above View Only (errors).

    ``model``: the engine over the desired resources, when the caller (``plan``)
    built it already to reuse it for the access impact.
    """
    if model is None:
        model = AccessModel(resources if resources is not None else desired_resources(manifest, resolved))
    places = _Places(manifest, resolved)
    out: list[Diagnostic] = []
    for conflict in model.conflicts():
        out.append(Diagnostic("warning", _conflict_position(places, conflict), conflict.describe(), conflict.hint(), "conflict"))
    for acc in model.distribution_lists():
        out.extend(_distribution_list(places, acc))
    return out


def _conflict_position(places: _Places, conflict: Conflict) -> Position:
    if conflict.kind == "group":
        return places.group(conflict.account, conflict.subject)
    if conflict.kind == "insufficient" and None not in conflict.product_from and conflict.product_from:
        return places.group(conflict.account, str(conflict.product_from[0]))
    return places.user(conflict.account, conflict.subject)


def _distribution_list(places: _Places, acc: Access) -> list[Diagnostic]:
    """Every feature above View Only, named with the role (and group) that gives it."""
    out: list[Diagnostic] = []
    for fl in acc.features:
        if fl.level == LEVELS[0]:
            continue
        out.append(Diagnostic("error", places.origin(acc.account, acc.user, fl.source.group), _dl_message(acc, fl), _dl_hint(fl), "distribution_list"))
    return out


def _dl_message(acc: Access, fl: FeatureLevel) -> str:
    where = f"in {acc.account}"
    if fl.source.kind == "product":
        return (
            f"distribution list {acc.user} must stay at View Only, but {where} it is assigned {fl.product} "
            f"({fl.source.via}), which gives full access whatever the role"
        )
    return (
        f"distribution list {acc.user} must stay at View Only, but {where} it gets {fl.product} feature "
        f"{fl.feature} at {fl.level} from {fl.source.describe()}"
    )


def _dl_hint(fl: FeatureLevel) -> str:
    if fl.source.kind == "product":
        return f"remove {fl.product} from the distribution list: its access cannot be limited by a role"
    viewer = [name for name, role in load_catalog().roles.items() if fl.product in role.products and set(role.permissions.values()) == {LEVELS[0]}]
    example = f", such as {viewer[0]}" if viewer else ""
    return f"give distribution lists only roles that stay at View Only{example}"
