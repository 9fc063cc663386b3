"""Unique names: customer ids, users, groups, logs and log sets, custom roles.

Each of these becomes one resource address in state (SPEC section 3), so two
declarations of one name would silently overwrite each other. A clash is
reported at the later declaration and names the earlier one's ``FILE:LINE``.
"""

from __future__ import annotations

from accessplan.checks.context import Context, Later, account_label
from accessplan.errors import Position
from accessplan.model import Account


def check_names(ctx: Context) -> None:
    m = ctx.manifest
    partner_at: Position | None = None
    seen_ids: dict[str, Later] = {}
    for customer in m.customers:
        if customer.id == m.partner.id:
            partner_at = partner_at or m.where(m.partner, "id")
            ctx.error(
                m.where(customer, "id"),
                f"customer id '{customer.id}' is the partner's id (at {partner_at.short})",
                "give the customer an id of its own",
                "duplicate-id",
            )
        first = seen_ids.get(customer.id)
        if first is not None:
            ctx.error(
                m.where(customer),
                f"customer '{customer.id}' is declared twice (first at {first.short})",
                "customer ids are unique; remove or rename one",
                "duplicate-customer",
            )
        else:
            seen_ids[customer.id] = Later(m, customer)
    for account in (m.partner, *m.customers):
        _account_names(ctx, account)
    _role_names(ctx)


def _account_names(ctx: Context, account: Account) -> None:
    if not _has_duplicates(account):
        return  # the common case, decided without building any position
    m = ctx.manifest
    label = account_label(account)
    users: dict[str, Later] = {}
    for user in account.users:
        if user.email in users:
            ctx.error(
                m.where(user),
                f"user '{user.email}' is declared twice in {label} (first at {users[user.email].short})",
                "declare each user once per account (emails are compared lower-cased)",
                "duplicate-user",
            )
        else:
            users[user.email] = Later(m, user)
    groups: dict[str, Later] = {}
    for group in account.groups:
        if group.name in groups:
            ctx.error(
                m.where(group),
                f"group '{group.name}' is declared twice in {label} (first at {groups[group.name].short})",
                "group names are unique within an account; merge or rename one",
                "duplicate-group",
            )
        else:
            groups[group.name] = Later(m, group)
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
    seen: dict[str, Later] = {}
    for role in m.roles:
        if role.name in ctx.catalog.roles:
            ctx.error(
                m.where(role, "name"),
                f"custom role '{role.name}' has the name of a managed role",
                "choose another name; to start from the managed role, use 'extends'",
                "duplicate-role",
            )
        elif role.name in seen:
            ctx.error(
                m.where(role),
                f"custom role '{role.name}' is declared twice (first at {seen[role.name].short})",
                "custom role names are unique; merge or rename one",
                "duplicate-role",
            )
        else:
            seen[role.name] = Later(m, role)
