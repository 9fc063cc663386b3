"""Commands about effective access: ``explain``, ``who-can``, ``test``, ``review``.

``explain``, ``who-can`` and ``test`` judge the manifest as desired (every
customer approved, nothing expired: SPEC section 5); ``review`` lists the
assignments as of ``--now`` (expired POC licenses no longer count), with their
provenance and status (pending, approved, revoked, expired) from the state
when there is one. Heavy
modules are imported inside the commands, so that loading the CLI stays cheap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accessplan.cli import Exit, cli, out, settings
from accessplan.errors import AccessplanError

if TYPE_CHECKING:
    from datetime import datetime

    from accessplan.access import AccessModel
    from accessplan.loader import Manifest
    from accessplan.resolve import Resolved


def _evaluate(path: str, now: datetime | None = None) -> tuple[Manifest, Resolved, AccessModel]:
    from accessplan.access import AccessModel
    from accessplan.desired import desired_resources
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve

    manifest = load_manifest(path)
    resolved = resolve(manifest, now=now)
    return manifest, resolved, AccessModel(desired_resources(manifest, resolved, now))


def _json(doc: Any) -> str:
    # ASCII-escaped, so that no bidirectional override in a name reaches the terminal raw.
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True)


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")


@cli.command("explain")
@click.argument("path", type=click.Path(path_type=str))
@click.argument("user")
@click.option("--customer", metavar="ID", help="Only this customer (or the partner account).")
@FORMAT
def explain_cmd(path: str, user: str, customer: str | None, fmt: str) -> None:
    """Show USER's effective access, and where every part of it comes from."""
    from accessplan.explain import FORMAT_VERSION, Subject, account_name, explain_json, explain_text, known_users, user_accounts
    from accessplan.model import did_you_mean

    manifest, resolved, model = _evaluate(path)
    user = user.lower()
    if user not in known_users(model):
        raise AccessplanError(f"unknown user '{user}'", did_you_mean(user, known_users(model), "the user has access nowhere in the manifest"))
    if customer is not None and model.account_kind(customer) is None:
        raise AccessplanError(f"unknown customer '{customer}'", did_you_mean(customer, model.accounts()))
    accounts = [customer] if customer is not None else user_accounts(model, user)
    docs: list[dict[str, Any]] = []
    texts: list[str] = []
    for account in accounts:
        name = account_name(model, account)
        acc = model.access(account, user)
        if acc is None:
            texts.append(f"{user} has no access to {account} ({name})")
            docs.append({"access": None, "account": account, "name": name})
            continue
        assignment = resolved.assignments.get((account, user))
        origin = "; ".join(src.describe(manifest) for src in assignment.sources) if assignment else None
        subject = Subject(account, name, model.account_kind(account) or "", origin)
        group_conflicts = [c for g in acc.groups for c in model.group_conflicts(account, g)]
        texts.append(explain_text(acc, subject, group_conflicts))
        docs.append(explain_json(acc, subject, group_conflicts))
    if fmt == "json":
        out(_json({"accounts": docs, "format_version": FORMAT_VERSION, "user": user}))
    else:
        from accessplan.errors import sanitize

        out(sanitize("\n\n".join(texts)) if texts else f"{user} has access nowhere")


@cli.command("who-can")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--customer", required=True, metavar="ID", help="The customer (or the partner account) to ask about.")
@click.option("--product", metavar="P", help="Only users holding this product (name or short code).")
@click.option("--feature", metavar="F", help="Only users reaching this feature.")
@click.option("--level", metavar="L", help="Only users at this level or above (View Only < View and Change < Administer).")
@click.option("--log", "log", metavar="NAME", help="Only users who can see this log.")
@FORMAT
def who_can_cmd(path: str, customer: str, product: str | None, feature: str | None, level: str | None, log: str | None, fmt: str) -> None:
    """List who can reach a customer, optionally narrowed to a product, feature, level or log."""
    from accessplan.explain import WhoCanQuery, account_name, check_query, who_can, who_can_json, who_can_text

    _, _, model = _evaluate(path)
    query = check_query(model, WhoCanQuery(customer, product, feature, level, log))
    rows = who_can(model, query)
    out(_json(who_can_json(query, rows)) if fmt == "json" else who_can_text(query, account_name(model, customer), rows))


@cli.command("test")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--junit", "junit", type=click.Path(dir_okay=False, path_type=str), metavar="FILE", help="Also write the results as JUnit XML.")
def test_cmd(path: str, junit: str | None) -> None:
    """Run the manifest's access tests (`tests:`); exit 1 if any fails."""
    from accessplan.accesstest import junit_xml, render_text, run_tests

    manifest, _, model = _evaluate(path)
    results = run_tests(manifest, model)
    out(render_text(results))
    if junit:
        try:
            Path(junit).write_text(junit_xml(results, f"accessplan test {manifest.root}"), encoding="utf-8")
        except OSError as exc:
            raise AccessplanError(f"cannot write {junit}: {exc.strerror}", "check the path") from None
    if any(not r.passed for r in results):
        raise Exit(1)


@cli.command("review")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True, help="Output format.")
@click.pass_context
def review_cmd(ctx: click.Context, path: str, fmt: str) -> None:
    """The access review: every assignment with its admin flag, products, roles and expiry."""
    from accessplan.access import AccessModel
    from accessplan.desired import desired_resources
    from accessplan.lifecycle import iso, review_statuses
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve
    from accessplan.review import review_csv, review_json, review_rows
    from accessplan.state import open_backend

    s = settings(ctx)
    manifest = load_manifest(path)
    desired = desired_resources(manifest, resolve(manifest, now=s.now), s.now)
    # Provenance (granted_at, granted_by, change_ref) and status come from state, when there is one.
    state = open_backend(s.state_location(path)).read(partner=manifest.partner.id)
    statuses = review_statuses(desired, state.resources, iso(s.now)) if state is not None else None
    rows = review_rows(AccessModel(desired), statuses=statuses)
    out(_json(review_json(rows)) if fmt == "json" else review_csv(rows), nl=fmt == "json")
