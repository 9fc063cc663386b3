"""Unique names: customer ids, users, groups, logs and log sets, custom roles.

Each of these becomes one resource address in state (SPEC section 3), so two
declarations of one name would silently overwrite each other. A clash is
reported at the later declaration and names the earlier one's ``FILE:LINE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from accessplan.checks.context import Context, Later, account_label
from accessplan.errors import Position
from accessplan.model import Account


def _once(ctx: Context, items: Iterable[Any], name: Callable[[Any], str], what: Callable[[str], str], hint: str, code: str) -> None:
    """Report each item whose name an earlier item already has, at the later one.

    ``what(name)`` describes the clash; the earlier item's ``FILE:LINE`` follows.
    """
    m = ctx.manifest
    seen: dict[str, Later] = {}
    for item in items:
        key = name(item)
        first = seen.get(key)
        if first is None:
            seen[key] = Later(m, item)
        else:
            ctx.error(m.where(item), f"{what(key)} (first at {first.short})", hint, code)


def check_names(ctx: Context) -> None:
    m = ctx.manifest
    partner_at: Position | None = None
    for customer in m.customers:
        if customer.id == m.partner.id:
            partner_at = partner_at or m.where(m.partner, "id")
            ctx.error(
                m.where(customer, "id"),
                f"customer id '{customer.id}' is the partner's id (at {partner_at.short})",
                "give the customer an id of its own",
                "duplicate-id",
            )
    _once(ctx, m.customers, lambda c: c.id, lambda n: f"customer '{n}' is declared twice",
          "customer ids are unique; remove or rename one", "duplicate-customer")
    for account in (m.partner, *m.customers):
        _account_names(ctx, account)
    _role_names(ctx)


def _account_names(ctx: Context, account: Account) -> None:
    if not _has_duplicates(account):
        return  # the common case, decided without building any position
    m = ctx.manifest
    label = account_label(account)
    _once(ctx, account.users, lambda u: u.email, lambda n: f"user '{n}' is declared twice in {label}",
          "declare each user once per account (emails are compared lower-cased)", "duplicate-user")
    _once(ctx, account.groups, lambda g: g.name, lambda n: f"group '{n}' is declared twice in {label}",
          "group names are unique within an account; merge or rename one", "duplicate-group")
    # Logs and log sets share one name space per account.
    logs: dict[str, tuple[str, Later]] = {}

    def claim(name: str, kind: str, obj: object, *sub: str | int) -> None:
        if name in logs:
            first_kind, first = logs[name]
            what = f"is declared twice in {label}" if kind == first_kind else f"has the name of a {first_kind} in {label}"
            ctx.error(
                m.where(obj, *sub),
                f"{kind} '{name}' {what} (first at {first.short})",
                "logs and log sets share one name space per account; rename one",
                "duplicate-log-name",
            )
        else:
            logs[name] = (kind, Later(m, obj, *sub))

    for log_set in account.log_sets:
        claim(log_set.name, "log set", log_set)
        for i, log in enumerate(log_set.logs):
            claim(log, "log", log_set, "logs", i)
    for i, log in enumerate(account.logs):
        claim(log, "log", account, "logs", i)


def _has_duplicates(account: Account) -> bool:
    users = {u.email for u in account.users}
    groups = {g.name for g in account.groups}
    logs = [*account.logs, *(s.name for s in account.log_sets)]
    for log_set in account.log_sets:
        logs.extend(log_set.logs)
    return len(users) < len(account.users) or len(groups) < len(account.groups) or len(set(logs)) < len(logs)


def _role_names(ctx: Context) -> None:
    m = ctx.manifest
    for role in m.roles:
        if role.name in ctx.catalog.roles:
            ctx.error(
                m.where(role, "name"),
                f"custom role '{role.name}' has the name of a managed role",
                "choose another name; to start from the managed role, use 'extends'",
                "duplicate-role",
            )
    custom = (role for role in m.roles if role.name not in ctx.catalog.roles)
    _once(ctx, custom, lambda r: r.name, lambda n: f"custom role '{n}' is declared twice",
          "custom role names are unique; merge or rename one", "duplicate-role")
