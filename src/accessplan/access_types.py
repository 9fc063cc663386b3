"""The value types of effective access: where a role comes from, a feature's level, a conflict, a user's access.

Plain frozen data, shared by the engine (:mod:`accessplan.access`), which
builds them, and by everything that reads them (explain, test, plan impact).
:mod:`accessplan.access` re-exports them; import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import total_ordering
from types import MappingProxyType
from typing import Any, Literal

from accessplan.catalog import LEVELS, level_rank, load_catalog

ConflictKind = Literal["user", "group", "insufficient"]
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@total_ordering
@dataclass(frozen=True, slots=True)
class RoleSource:
    """Where a role (or, for ``kind="product"``, a full-access product) reaches a user from."""

    role: str
    group: str | None  # None: assigned directly
    kind: Literal["role", "product"] = "role"

    def sort_key(self) -> tuple[str, bool, str, str]:
        # Direct before groups; None never meets a str in a comparison.
        return (self.role, self.group is not None, self.group or "", self.kind)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, RoleSource):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    @property
    def via(self) -> str:
        return "direct" if self.group is None else f"via group {self.group}"

    def describe(self) -> str:
        if self.kind == "product":
            how = "assigned directly" if self.group is None else f"assigned via group {self.group}"
            return f"product {self.role} {how}, which gives full access whatever the role"
        if self.group is None:
            return f"role {self.role}, direct"
        return f"role {self.role} via group {self.group}"


def level_key(item: tuple[str, RoleSource]) -> tuple[int, tuple[str, bool, str, str]]:
    return (level_rank(item[0]), item[1].sort_key())


@dataclass(frozen=True, slots=True)
class FeatureLevel:
    """A feature's effective level, the role that gives it, and the higher levels it beat."""

    product: str
    feature: str
    level: str
    source: RoleSource
    lowered_from: tuple[tuple[str, RoleSource], ...]

    def describe(self) -> str:
        text = f"{self.feature}: {self.level} — {self.source.describe()}"
        if self.lowered_from:
            beaten = ", ".join(f"{lvl} ({src.describe()})" for lvl, src in self.lowered_from)
            text += f"; lowered from {beaten} by least privilege"
        return text


@dataclass(frozen=True, slots=True)
class Conflict:
    """A privilege conflict as the platform's Conflicts tab lists it (seed)."""

    kind: ConflictKind
    account: str
    subject: str  # user email, or group name for kind "group"
    product: str
    feature: str
    levels: tuple[tuple[str, RoleSource], ...]
    result: str | None  # the level that results; None: no access
    #: insufficient: the roles that do apply to the product
    roles: tuple[RoleSource, ...] = ()
    #: insufficient: where the product comes from (None: directly)
    product_from: tuple[str | None, ...] = ()

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.account, self.kind, self.subject, self.product, self.feature)

    def describe(self) -> str:
        if self.kind == "insufficient":
            origin = ", ".join("directly" if g is None else f"via group {g}" for g in self.product_from) or "directly"
            applying = ", ".join(src.describe() for src in self.roles)
            text = (
                f"insufficient access for {self.subject} in {self.account}: {self.product} is assigned ({origin}) "
                f"but no role gives its core feature {self.feature} at View Only or above"
            )
            text += f" (roles applying to it: {applying})" if applying else " (no role applies to it)"
            return text + ", so the product is of no use to them"
        given = " and ".join(f"at {lvl} by {src.describe()}" for lvl, src in self.levels)
        who = f"for {self.subject} in {self.account}" if self.kind == "user" else f"in group {self.subject} of {self.account}"
        return (
            f"privilege conflict {who}: {self.product} feature {self.feature} is given {given}; "
            f"least privilege makes it {self.result}"
        )

    def hint(self) -> str:
        if self.kind == "insufficient":
            admin = load_catalog().products.get(self.product)
            example = f", e.g. {_viewer_role(self.product)}" if admin is not None else ""
            return f"assign a role reaching {self.feature}, directly or through a group{example}"
        if self.kind == "group":
            return "make the group's roles agree on the feature's level"
        return "give the feature one level: change the roles assigned directly or through the user's groups"


def _viewer_role(product: str) -> str:
    """The managed role giving the product's core feature at View Only (for hints)."""
    catalog = load_catalog()
    core = catalog.products[product].core_feature
    for name, role in catalog.roles.items():
        if product in role.products and role.permissions.get(core or "") == LEVELS[0]:
            return name
    return catalog.products[product].admin_role


@dataclass(frozen=True, slots=True, init=False)
class Access:
    """One user's effective access in one account, with the source of each part."""

    account: str
    user: str
    platform_admin: bool
    products: tuple[str, ...]
    features: tuple[FeatureLevel, ...]
    roles_ignored: tuple[str, ...]
    groups: tuple[str, ...]
    logs: frozenset[str] | None
    log_reasons: Mapping[str, str]
    expiry: str | None
    conflicts: tuple[Conflict, ...]
    #: product -> where it comes from (None: directly, else a group name)
    product_sources: Mapping[str, tuple[str | None, ...]]
    #: products assigned but not licensed by the account (they give nothing)
    unlicensed: tuple[str, ...]
    #: role names that are neither managed nor defined in the account
    unknown_roles: tuple[str, ...]
    #: every role reaching the user, whatever product it applies to
    roles: tuple[RoleSource, ...]
    distribution_list: bool

    def __init__(
        self, account: str, user: str, platform_admin: bool, products: tuple[str, ...], features: tuple[FeatureLevel, ...],
        roles_ignored: tuple[str, ...], groups: tuple[str, ...], logs: frozenset[str] | None, log_reasons: Mapping[str, str],
        expiry: str | None, conflicts: tuple[Conflict, ...], product_sources: Mapping[str, tuple[str | None, ...]] = _EMPTY,
        unlicensed: tuple[str, ...] = (), unknown_roles: tuple[str, ...] = (), roles: tuple[RoleSource, ...] = (),
        distribution_list: bool = False,
    ) -> None:
        # Written out (rather than generated) because a large MSSP builds ~100,000 of
        # these per evaluation and the generated frozen __init__ is twice as slow.
        put = object.__setattr__
        put(self, "account", account)
        put(self, "user", user)
        put(self, "platform_admin", platform_admin)
        put(self, "products", products)
        put(self, "features", features)
        put(self, "roles_ignored", roles_ignored)
        put(self, "groups", groups)
        put(self, "logs", logs)
        put(self, "log_reasons", log_reasons)
        put(self, "expiry", expiry)
        put(self, "conflicts", conflicts)
        put(self, "product_sources", product_sources)
        put(self, "unlicensed", unlicensed)
        put(self, "unknown_roles", unknown_roles)
        put(self, "roles", roles)
        put(self, "distribution_list", distribution_list)

    def level(self, product: str, feature: str) -> str | None:
        for fl in self.features:
            if fl.product == product and fl.feature == feature:
                return fl.level
        return None

    def feature(self, product: str, feature: str) -> FeatureLevel | None:
        for fl in self.features:
            if fl.product == product and fl.feature == feature:
                return fl
        return None

    def summary(self) -> dict[str, Any]:
        """The canonical, JSON-able view compared by access-impact diffs and escalations."""
        features: dict[str, dict[str, str]] = {}
        for fl in self.features:
            features.setdefault(fl.product, {})[fl.feature] = fl.level
        return {
            "expiry": self.expiry,
            "features": features,
            "logs": None if self.logs is None else sorted(self.logs),
            "platform_admin": self.platform_admin,
            "products": list(self.products),
        }
