"""People and data inside each account: group members, log rules, distribution lists.

A partner user reaches a customer only through an assignment, so a partner
user who is a member of a customer's group, or who has log rules there, needs
one. Log rules mean something only once an account stops giving every user
every log (``default_all_logs: false``, seed), and logs exist only where a
product with logs is licensed. A distribution list is never an administrator
(seed); the partner should have at least two administrators (seed).
"""

from __future__ import annotations

from accessplan.checks.context import Context, account_label, did_you_mean_user, holders
from accessplan.model import Account, Customer, Group, Partner, User, did_you_mean


def check_members(ctx: Context) -> None:
    for account in (ctx.manifest.partner, *ctx.manifest.customers):
        _log_holders(ctx, account)
        for group in account.groups:
            _group_members(ctx, account, group)
        for user in account.users:
            if user.distribution_list and user.platform_admin:
                ctx.error(
                    ctx.manifest.where(user, "platform_admin"),
                    f"distribution list '{user.email}' cannot be a platform administrator",
                    "a distribution list stays read-only; remove platform_admin",
                    "distribution-list-admin",
                )
    _partner_admins(ctx)


def logs_hint(ctx: Context) -> str:
    with_logs = [p.name for p in ctx.catalog.products.values() if p.has_logs]
    return f"logs exist only in accounts licensing {' or '.join(with_logs)}"


def _log_holders(ctx: Context, account: Account) -> None:
    m = ctx.manifest
    label = account_label(account)
    if not any(ctx.catalog.products[p].has_logs for p in ctx.licensed(account)):
        for key in ("log_sets", "logs"):
            if getattr(account, key):
                what = "log sets" if key == "log_sets" else "logs"
                ctx.error(
                    m.where(account, key, key=True),
                    f"{label} licenses no product with logs, so it cannot have {what}",
                    logs_hint(ctx),
                    "logs-unlicensed",
                )
    names = ctx.log_names(account)
    for holder in holders(account):
        rules = holder.logs
        if rules is None or not (rules.select or rules.restrict):
            continue
        email = holder.email if isinstance(holder, User) else None
        if email in ctx.partner_users and isinstance(account, Customer) and (account.id, email) not in ctx.resolved.assignments:
            ctx.error(
                m.where(holder, "logs", key=True),
                f"partner user '{email}' has log rules in {label} but no assignment to it",
                f"add a grant giving {email} access to {account.id}",
                "log-rule-without-assignment",
            )
        if account.data_access.default_all_logs:
            ctx.error(
                m.where(holder, "logs", key=True),
                f"log rules need data_access.default_all_logs: false in {label}",
                "until it is false every user of the account sees every log; set it in the account's data_access",
                "log-rules-default-all",
            )
        for key in ("select", "restrict"):
            for i, name in enumerate(getattr(rules, key)):
                if name not in names:
                    ctx.error(
                        m.where(holder, "logs", key, i),
                        f"no log or log set '{name}' in {label}",
                        did_you_mean(name, names, "declare it under the account's log_sets or logs"),
                        "unknown-log",
                    )


def _group_members(ctx: Context, account: Account, group: Group) -> None:
    m = ctx.manifest
    own = {u.email for u in account.users}
    for i, email in enumerate(group.members):
        if email in own:
            continue
        if email not in ctx.partner_users:
            if isinstance(account, Partner):
                message = f"unknown user '{email}': not a partner user"
            else:
                message = f"unknown user '{email}': neither a user of {account_label(account)} nor a partner user"
            ctx.error(
                m.where(group, "members", i),
                message,
                did_you_mean_user(email, [*own, *ctx.partner_users], "declare the user in the account's users or under partner.users"),
                "unknown-user",
            )
        elif isinstance(account, Customer) and (account.id, email) not in ctx.resolved.assignments:
            ctx.error(
                m.where(group, "members", i),
                f"partner user '{email}' is a member of group '{group.name}' but has no assignment to customer '{account.id}'",
                f"add a grant giving {email} access to {account.id} (a quick-add grant is enough)",
                "member-without-assignment",
            )


def _partner_admins(ctx: Context) -> None:
    partner = ctx.manifest.partner
    admins = sorted(u.email for u in ctx.partner_users.values() if u.platform_admin and not u.distribution_list)
    if len(admins) >= 2:
        return
    if admins:
        message = f"the partner has only one Partner Platform Administrator ('{admins[0]}')"
    else:
        message = "the partner has no Partner Platform Administrator"
    ctx.warning(
        ctx.manifest.where(partner),
        message,
        "appoint at least two (platform_admin: true), so that someone can always manage customer access",
        "few-partner-admins",
    )
