"""Commands ``customer approve|revoke|notifications ID`` and ``poc email CUSTOMER PRODUCT``.

The ``customer`` commands act as the managed customer's platform administrator
would in the platform (SPEC section 4): each takes the state lock, writes one
commit with one audit line, or nothing when there is nothing to change. The
library does the work (:mod:`accessplan.customer`); this module prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from accessplan.cli import cli, out, settings
from accessplan.errors import AccessplanError, sanitize

if TYPE_CHECKING:
    from accessplan.customer import Outcome
    from accessplan.state import Backend

_state = click.option("--state", "state_dir", metavar="DIR", help="State location (the global --state, given here).")
_as = click.option("--as", "actor", metavar="EMAIL", help="The customer's platform administrator acting (recorded in the audit log).")
_timeout = click.option(
    "--lock-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS", help="Wait this long for the state lock."
)


def _actor(value: str | None) -> str | None:
    if value is None:
        return None
    from accessplan.model import EMAIL_RE

    email = value.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccessplanError(f"'{value}' is not a valid email address for --as", "give the email of the person acting")
    return email


@cli.group("customer")
def customer_group() -> None:
    """Act as a managed customer's platform administrator: approve, revoke, notifications."""


def _backend(ctx: click.Context, state_dir: str | None) -> Backend:
    from accessplan.state import open_backend

    return open_backend(state_dir or settings(ctx).state_location(None))


def _settings_text(outcome: Outcome) -> str:
    on = {True: "on", False: "off"}
    return f"on grant {on[outcome.settings['on_grant']]}, on removal {on[outcome.settings['on_removal']]}"


@customer_group.command("approve")
@click.argument("customer_id", metavar="ID")
@_as
@_timeout
@_state
@click.pass_context
def approve_command(ctx: click.Context, customer_id: str, actor: str | None, lock_timeout: float, state_dir: str | None) -> None:
    """The customer approves the partner: the next plan applies what was deferred."""
    from accessplan.customer import approve

    outcome = approve(_backend(ctx, state_dir), customer_id, actor=_actor(actor), now=settings(ctx).now, lock_timeout=lock_timeout)
    cid = sanitize(customer_id)
    if not outcome.written:
        out(f"Customer {cid} has already approved the partner: nothing to do.")
        return
    out(f"Customer {cid} approved the partner (was {outcome.relationship_before}). State serial {outcome.serial_after}.")
    out("The next plan applies what was deferred there.")


@customer_group.command("revoke")
@click.argument("customer_id", metavar="ID")
@_as
@_timeout
@_state
@click.pass_context
def revoke_command(ctx: click.Context, customer_id: str, actor: str | None, lock_timeout: float, state_dir: str | None) -> None:
    """The customer removes the partner's access: its assignments and group memberships go at once."""
    from accessplan.customer import revoke

    outcome = revoke(_backend(ctx, state_dir), customer_id, actor=_actor(actor), now=settings(ctx).now, lock_timeout=lock_timeout)
    cid = sanitize(customer_id)
    if not outcome.written:
        out(f"Customer {cid} has already revoked the partner: nothing to do.")
        return
    out(f"Customer {cid} revoked the partner (was {outcome.relationship_before}). State serial {outcome.serial_after}.")
    for address in outcome.removed:
        out(f"  - {sanitize(address)}")
    for address in outcome.updated:
        out(f"  ~ {sanitize(address)} (partner members removed)")
    n, g, m = len(outcome.removed), len(outcome.updated), len(outcome.notifications)
    out(
        f"Removed {n} assignment{'s' if n != 1 else ''} and their memberships in {g} group{'s' if g != 1 else ''}; "
        f"{m} removal notification{'s' if m != 1 else ''} owed. Later plans defer these grants (customer_revoked)."
    )


@customer_group.command("notifications")
@click.argument("customer_id", metavar="ID")
@click.option("--on-grant/--no-on-grant", default=None, help="Notify the customer when partner access is granted.")
@click.option("--on-removal/--no-on-removal", default=None, help="Notify the customer when partner access is removed.")
@_as
@_timeout
@_state
@click.pass_context
def notifications_command(ctx: click.Context, customer_id: str, on_grant: bool | None, on_removal: bool | None,
                          actor: str | None, lock_timeout: float, state_dir: str | None) -> None:
    """Show or set the customer's notifications (off until turned on)."""
    from accessplan.customer import set_notifications

    outcome = set_notifications(
        _backend(ctx, state_dir), customer_id, on_grant=on_grant, on_removal=on_removal,
        actor=_actor(actor), now=settings(ctx).now, lock_timeout=lock_timeout,
    )
    cid = sanitize(customer_id)
    if outcome.written:
        out(f"Customer {cid} notifications: {_settings_text(outcome)}. State serial {outcome.serial_after}.")
    else:
        out(f"Customer {cid} notifications: {_settings_text(outcome)} (unchanged).")


@cli.group("poc")
def poc_group() -> None:
    """Proof-of-concept licenses."""


@poc_group.command("email")
@click.argument("customer_id", metavar="CUSTOMER")
@click.argument("product", metavar="PRODUCT")
@click.argument("path", required=False, default=".", type=click.Path(path_type=str))
@click.option("--extend", "request", flag_value="extend", help="Ask to extend the POC license.")
@click.option("--purchase", "request", flag_value="purchase", help="Ask to purchase the product.")
@click.pass_context
def poc_email_command(ctx: click.Context, customer_id: str, product: str, path: str, request: str | None) -> None:
    """Print the email asking the platform vendor to extend or purchase a POC license.

    PATH is the manifest (default: the current directory).
    """
    if request is None:
        raise click.UsageError("say what to ask for: --extend or --purchase")
    from accessplan.loader import load_manifest
    from accessplan.poc import find_license, render_email

    lic = find_license(load_manifest(path), customer_id, product)
    out(render_email(lic, "extend" if request == "extend" else "purchase", settings(ctx).now), nl=False)
