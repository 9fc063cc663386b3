"""Commands ``state init`` and ``state migrate``: where state lives, and moving it.

``state init`` creates the PostgreSQL tables ahead of the first apply (a
database role that applies need not be allowed to create tables), or the state
directory. ``state migrate`` copies a state with its lineage, serial, audit log
and outbox from one backend to another.
"""

from __future__ import annotations

import click

from accessplan.cli import cli, out, settings
from accessplan.errors import AccessplanError


@cli.group("state")
def state_group() -> None:
    """Create the state's storage, or move a state between backends.

    \b
    Examples:
      accessplan state init --state postgresql://accessplan@db.example/accessplan
      accessplan state migrate --from .accessplan --to postgresql://accessplan@db.example/accessplan
    """


@state_group.command("init")
@click.option("--state", "location", metavar="DIR|URL", help="State location (the global --state, given here).")
@click.pass_context
def init_command(ctx: click.Context, location: str | None) -> None:
    """Create the tables of a PostgreSQL state (or a state directory); safe to run again.

    \b
    Example:
      accessplan state init --state postgresql://accessplan@db.example/accessplan
    """
    from accessplan.state import open_backend

    s = settings(ctx)
    backend = open_backend(location or s.state_location(None))
    from accessplan.pgstate import PgBackend

    if not isinstance(backend, PgBackend):
        with backend.lock(operation="state init", actor=None, timeout=0, now=s.now):
            pass  # taking the lock creates the directory
        out(f"State directory {backend.location} is ready (a state directory has no tables to create).")
        return
    before, after = backend.init()
    if before == after:
        out(f"The accessplan tables in {backend.location} are already at schema version {after}.")
    elif before is None:
        out(f"Created the accessplan tables in {backend.location} (schema version {after}).")
    else:
        out(f"Upgraded the accessplan tables in {backend.location} from schema version {before} to {after}.")


@state_group.command("migrate")
@click.option("--from", "source", required=True, metavar="DIR|URL", help="Where the state is now.")
@click.option("--to", "target", required=True, metavar="DIR|URL", help="Where it goes; must hold no state of this partner.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS", help="Wait this long for each state lock.")
@click.option("--as", "actor", metavar="EMAIL", help="Who migrates (shown to anyone waiting for the lock).")
@click.pass_context
def migrate_command(ctx: click.Context, source: str, target: str, lock_timeout: float, actor: str | None) -> None:
    """Copy a state with its lineage, serial, audit log and outbox to another backend.

    \b
    Examples:
      accessplan state migrate --from .accessplan --to postgresql://accessplan@db.example/accessplan
      accessplan state migrate --from postgresql://accessplan@db.example/accessplan?partner=acme-mssp --to ./state-copy
    """
    from accessplan.state import open_backend
    from accessplan.statemigrate import migrate_state

    s = settings(ctx)
    if actor is not None:
        from accessplan.model import EMAIL_RE

        actor = actor.strip().lower()
        if not EMAIL_RE.match(actor):
            raise AccessplanError(f"'{actor}' is not a valid email address for --as", "give the email of the person migrating")
    src, dst = open_backend(source), open_backend(target)
    done = migrate_state(src, dst, timeout=lock_timeout, actor=actor, now=s.now)
    partner = f"partner {done.partner}" if done.partner else "no partner"
    out(
        f"Migrated the state of {partner} (lineage {done.lineage}, serial {done.serial}) with {done.audit_records} audit records "
        f"and {done.notifications} notifications from {src.location} to {dst.location}."
    )
    out(f"Use --state {dst.location} (or ACCESSPLAN_STATE) from now on; {src.location} was left as it was: retire it so that nobody applies to it.")
