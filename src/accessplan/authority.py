"""Who may apply what: the authority behind ``--as EMAIL`` (SPEC section 4, seed).

The platform lets different people do different things, and an apply made
``--as`` someone may only contain what that person could do by hand:

* **partner-level changes** — the partner account and its users, customers
  (adding, renaming, removing), and granting or removing a partner user's
  access to a customer, its platform-admin flag and how long it lasts (the
  seed's Customer Management) — need a *Partner Platform Administrator*: a
  partner user with ``platform_admin: true``;
* **changes inside a customer** — its users, groups, custom roles, logs, and
  the products, roles and log rules of an assignment there (the seed: another
  platform administrator in the customer can assign products and roles) — need
  a Partner Platform Administrator or a *platform admin of that customer*: a
  partner user whose live assignment there has ``platform_admin``, or a user
  of the customer with ``platform_admin: true``;
* a **product administrator** — a user who holds a product in a customer with
  that product's administrator role (the catalog's ``admin_role``: InsightIDR
  Admin, Administrator, ...), directly or through a group — may make the
  changes inside that customer that only add or remove products they
  administer there (products, roles and log rules of users, assignments and
  groups, and group members), and never anything about platform admin;
* an **analyst** without any of these rights applies nothing.

Rights are judged on the state *before* the apply: nobody gains the authority
for a change through the change itself. The one exception is a state that does
not know the partner's users yet (the first apply): then the Partner Platform
Administrators are the ones the plan creates. Changes the platform makes by
itself — removing what expired, and what a POC license that ended carried —
need no authority of their own (but an analyst still applies nothing).

The customer-side commands (``accessplan customer ...``) act for the
customer's administrator: the partner's people may not act for it, and when
the state knows the customer's platform administrators, only they may.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accessplan import lifecycle as lc
from accessplan.catalog import load_catalog
from accessplan.errors import PlanRefused
from accessplan.plan import Action, Change, Reason

PARTNER_ADMIN = "a Partner Platform Administrator"
_EXEMPT = frozenset({Reason.EXPIRED, Reason.LICENSE_EXPIRED})  # the platform's own doing
_PRODUCT_FIELDS = frozenset({"products", "roles", "logs", "members"})
_HINT = "apply as someone who holds that authority (--as EMAIL), or leave the change out of the manifest"

Resources = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Need:
    """The authority one change needs."""

    scope: str  # "partner" | "customer" | "product"
    what: str  # the change in words, e.g. "granting bob@x access to customer 'globex'"
    customer: str | None = None
    products: frozenset[str] = frozenset()
    platform_admin: bool = False  # it makes someone a platform admin (or takes it away)

    def describe(self) -> str:
        if self.scope == "partner":
            return PARTNER_ADMIN
        if self.scope == "customer":
            return f"{PARTNER_ADMIN} or a platform admin of customer '{self.customer}'"
        return f"{PARTNER_ADMIN}, a platform admin of customer '{self.customer}' or an administrator of {_and(sorted(self.products))} there"


@dataclass(slots=True)
class Rights:
    """What one person may do, as the state shows it."""

    email: str
    known: bool = False
    partner_admin: bool = False
    customer_admin: set[str] = field(default_factory=set)
    product_admin: dict[str, set[str]] = field(default_factory=dict)  # customer -> products administered

    @property
    def any_admin(self) -> bool:
        return self.partner_admin or bool(self.customer_admin) or any(self.product_admin.values())

    def allows(self, need: Need) -> bool:
        if self.partner_admin:
            return True
        if need.scope == "partner" or need.customer is None:
            return False
        if need.customer in self.customer_admin:
            return True
        if need.scope == "customer" or need.platform_admin or not need.products:
            return False
        return need.products <= self.product_admin.get(need.customer, set())

    def describe(self, need: Need) -> str:
        if not self.known:
            return f"{self.email} is neither a user nor an assignment in the state"
        if not self.any_admin:
            return f"{self.email} has no admin rights, and an analyst without admin rights applies nothing"
        parts = []
        if self.customer_admin:
            parts.append(f"a platform admin of {_customers(sorted(self.customer_admin))}")
        for cid, products in sorted(self.product_admin.items()):
            if products:
                parts.append(f"an administrator of {_and(sorted(products))} at customer '{cid}'")
        text = f"{self.email} is only {_and(parts)}"
        if need.platform_admin and any(self.product_admin.values()):
            text += ", and a product administrator never grants platform admin"
        return text


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _customers(ids: list[str]) -> str:
    return ("customer " if len(ids) == 1 else "customers ") + _and([f"'{c}'" for c in ids])


# --- who holds what ------------------------------------------------------------


def _held_products(products: set[str], roles: set[str], licensed: Iterable[str]) -> set[str]:
    """Products held with their administrator role (and licensed in the account)."""
    catalog = load_catalog()
    out = set()
    for name in products.intersection(licensed):
        product = catalog.product(name)
        if product is not None and product.admin_role in roles:
            out.add(name)
    return out


def rights_of(email: str, resources: Resources, partner: str, now_iso: str, plan: Iterable[Change] = ()) -> Rights:
    """``email``'s rights in ``resources`` (the state before the apply).

    ``plan``: when the state holds no partner user yet, the partner users it
    creates decide who is a Partner Platform Administrator.
    """
    rights = Rights(email)
    direct: dict[str, tuple[set[str], set[str]]] = {}
    partner_users = False
    suffix = f"/{email}"
    for addr, res in resources.items():
        kind, _, rest = addr.partition("/")
        if kind == "user" and rest.startswith(f"{partner}/"):
            partner_users = True
        if kind == "group":
            members = res["spec"].get("members") or ()
            if email in members:
                account = rest.split("/", 1)[0]
                products, roles = direct.setdefault(account, (set(), set()))
                products.update(res["spec"].get("products") or ())
                roles.update(res["spec"].get("roles") or ())
            continue
        if kind not in ("user", "assignment") or not addr.endswith(suffix):
            continue
        account = rest[: -len(suffix)]
        if "/" in account:
            continue
        spec, status = res["spec"], res.get("status")
        if kind == "assignment" and (lc.is_tombstone(status) or lc.has_expired(status, now_iso)):
            continue
        rights.known = True
        if account == partner:
            rights.partner_admin = bool(spec.get("platform_admin"))
            continue
        if spec.get("platform_admin"):
            rights.customer_admin.add(account)
        products, roles = direct.setdefault(account, (set(), set()))
        products.update(spec.get("products") or ())
        roles.update(spec.get("roles") or ())
    if not partner_users:
        for change in plan:
            if change.action is Action.CREATE and change.address == f"user/{partner}/{email}" and change.after:
                rights.known = True
                rights.partner_admin = bool(change.after.get("platform_admin"))
    for account, (products, roles) in direct.items():
        if account == partner or f"customer/{account}" not in resources:
            continue
        held = _held_products(products, roles, resources[f"customer/{account}"]["spec"].get("licensed") or ())
        if held:
            rights.product_admin[account] = held
    return rights


# --- what each change needs ----------------------------------------------------


def _fields(change: Change) -> set[str]:
    return {name.split(".", 1)[0] for name in (*change.added, *change.removed, *change.changed)}


def _role_products(role: str, account: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> set[str] | None:
    managed = load_catalog().roles.get(role)
    if managed is not None:
        return set(managed.products)
    address = f"role/{account}/{role}"
    spec = created.get(address) or (resources.get(address) or {}).get("spec")
    return {spec["product"]} if spec and spec.get("product") else None


def _touched_products(change: Change, account: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """The products an update of products, roles, log rules or members reaches."""
    before, after = change.before or {}, change.after or {}
    in_spec = set(before.get("products") or ()) | set(after.get("products") or ())
    touched = set(change.added.get("products", ())) | set(change.removed.get("products", ()))
    for role in (*change.added.get("roles", ()), *change.removed.get("roles", ())):
        suits = _role_products(role, account, resources, created)
        touched |= in_spec if suits is None else suits & in_spec
    fields = _fields(change)
    if "logs" in fields:
        catalog = load_catalog()
        touched |= {p for p in in_spec if (prod := catalog.product(p)) is not None and prod.has_logs}
    if "members" in fields:
        touched |= in_spec
    return frozenset(touched)


def need_of(change: Change, partner: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> Need | None:
    """The authority ``change`` needs; ``None`` for what the platform does by itself."""
    if change.reason in _EXEMPT:
        return None
    kind, account, name = (change.address.split("/", 2) + ["", ""])[:3]
    verb = {Action.CREATE: "adding", Action.UPDATE: "changing", Action.DELETE: "removing"}.get(change.action, "changing")
    if kind == "partner":
        return Need("partner", "changing the partner account")
    if kind == "customer":
        renaming = change.action is Action.UPDATE and _fields(change) == {"name"}
        return Need("partner", f"{'renaming' if renaming else verb} customer '{account}'")
    if change.reason is Reason.CUSTOMER_REMOVED:
        return Need("partner", f"removing customer '{account}'")
    if change.reason is Reason.USER_REMOVED:
        return Need("partner", "removing a deleted partner user's access")
    if account == partner:
        what = f"{verb} partner user {name}" if kind == "user" else f"{verb} {kind} '{name}' of the partner account"
        return Need("partner", what)
    if kind == "assignment":
        return _assignment_need(change, account, name, resources, created)
    if kind in ("user", "group"):
        return _member_need(change, kind, account, name, resources, created)
    words = {"role": "custom role", "logset": "log set"}.get(kind, kind)
    return Need("customer", f"{verb} {words} '{name}' in customer '{account}'", account)


def _assignment_need(change: Change, cid: str, user: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> Need:
    where = f"customer '{cid}'"
    if change.action is Action.CREATE:
        return Need("partner", f"granting {user} access to {where}", cid, platform_admin=bool((change.after or {}).get("platform_admin")))
    if change.action is Action.DELETE:
        return Need("partner", f"removing {user}'s access to {where}", cid)
    fields = _fields(change)
    if "platform_admin" in fields:
        gives = bool((change.after or {}).get("platform_admin"))
        what = f"making {user} a platform admin of {where}" if gives else f"taking platform admin from {user} at {where}"
        return Need("partner", what, cid, platform_admin=True)
    if fields - _PRODUCT_FIELDS:
        return Need("partner", f"changing how long {user}'s access to {where} lasts", cid)
    return _product_need(change, f"changing {user}'s {_and(sorted(fields))} at {where}", cid, resources, created)


def _member_need(change: Change, kind: str, cid: str, name: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> Need:
    where = f"customer '{cid}'"
    label = f"user {name}" if kind == "user" else f"group '{name}'"
    if change.action is Action.CREATE:
        gives = kind == "user" and bool((change.after or {}).get("platform_admin"))
        return Need("customer", f"adding {label} to {where}", cid, platform_admin=gives)
    if change.action is Action.DELETE:
        return Need("customer", f"removing {label} from {where}", cid)
    fields = _fields(change)
    if "platform_admin" in fields:
        gives = bool((change.after or {}).get("platform_admin"))
        what = f"making {name} a platform admin of {where}" if gives else f"taking platform admin from {name} at {where}"
        return Need("customer", what, cid, platform_admin=True)
    if fields - _PRODUCT_FIELDS:
        return Need("customer", f"changing {label} of {where}", cid)
    return _product_need(change, f"changing the {_and(sorted(fields))} of {label} at {where}", cid, resources, created)


def _product_need(change: Change, what: str, cid: str, resources: Resources, created: Mapping[str, Mapping[str, Any]]) -> Need:
    products = _touched_products(change, cid, resources, created)
    if not products:
        return Need("customer", what, cid)
    return Need("product", what, cid, products)


# --- the checks ----------------------------------------------------------------


def check_apply(changes: Iterable[Change], actor: str | None, resources: Resources, partner: str, now_iso: str) -> None:
    """Refuse (:class:`PlanRefused`) if ``actor`` may not apply every one of ``changes``.

    ``changes`` are the applicable (not deferred) changes; without an actor
    nothing is checked.
    """
    if actor is None:
        return
    changes = list(changes)
    if not changes:
        return
    created = {c.address: c.after for c in changes if c.after is not None and c.kind == "role"}
    rights = rights_of(actor, resources, partner, now_iso, changes)
    refused: list[tuple[Change, Need]] = []
    for change in changes:
        need = need_of(change, partner, resources, created)
        if need is not None and not rights.allows(need):
            refused.append((change, need))
    if not refused and not rights.any_admin:
        raise PlanRefused(f"{actor} may not apply this plan: {rights.describe(Need('partner', ''))}", _HINT)
    if not refused:
        return
    change, need = refused[0]
    more = f" (and {len(refused) - 1} more change{'s' if len(refused) > 2 else ''} {actor} may not apply)" if len(refused) > 1 else ""
    raise PlanRefused(
        f"{actor} may not apply this plan: {change.action.value} {change.address} ({need.what}) needs {need.describe()}; "
        f"{rights.describe(need)}{more}",
        _HINT,
    )


_CUSTOMER_VERBS = {
    "approve": "approve the partner for",
    "revoke": "revoke the partner's access to",
    "notifications": "change the notification settings of",
}


def check_customer_actor(state: Any, customer: str, actor: str | None, action: str) -> None:
    """Refuse a customer-side action by someone who does not act for the customer.

    The partner's people may never act for the customer (a partner approving
    itself would defeat the approval). When the state knows the customer's own
    platform administrators (``user/<customer>/...`` with ``platform_admin``),
    only they may act; before that (a pending customer's users are deferred)
    any other actor is accepted and recorded.
    """
    if actor is None:
        return
    resources = state.resources
    phrase = f"{_CUSTOMER_VERBS.get(action, action)} customer '{customer}'"
    partner = state.partner
    if f"user/{partner}/{actor}" in resources or f"assignment/{customer}/{actor}" in resources:
        raise PlanRefused(
            f"{actor} is a user of partner '{partner}' and may not {phrase}: only the customer's own platform administrator can",
            "run it as the customer's platform administrator (--as EMAIL)",
        )
    prefix = f"user/{customer}/"
    admins = sorted(a[len(prefix):] for a, res in resources.items() if a.startswith(prefix) and res["spec"].get("platform_admin"))
    if admins and actor not in admins:
        raise PlanRefused(
            f"{actor} may not {phrase}: that needs a platform administrator of customer '{customer}' ({', '.join(admins)})",
            "run it as one of them (--as EMAIL)",
        )
