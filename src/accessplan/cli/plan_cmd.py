"""Commands ``plan``, ``apply``, ``show`` and ``export``: the plan/apply cycle on a state backend.

``plan`` reads the manifest and the state and shows what would change;
``apply`` does the same under the state lock, asks, and writes, or applies a
saved plan exactly; ``export`` writes a manifest that reproduces the state. Heavy modules are imported inside the commands, so that
``accessplan validate`` in a pre-commit hook does not pay for them.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accessplan.cli import EXIT_CHANGES, Exit, Settings, cli, out, settings, warn
from accessplan.errors import AccessplanError, PlanRefused

if TYPE_CHECKING:
    from accessplan.access import AccessModel
    from accessplan.desired import Resources
    from accessplan.loader import Manifest
    from accessplan.plan import Plan
    from accessplan.resolve import Resolved
    from accessplan.state import Backend, State

_PROGRESS_MIN = 2_000  # changes from which an apply on a terminal shows a progress bar

#: ``--state`` is a global option; these commands also take it after their name
#: (``accessplan plan PATH --state DIR``), as Terraform users type it.
state_option = click.option("--state", "state_dir", metavar="DIR", help="State location (the global --state, given here).")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A manifest made ready to plan: what it desires, and its policy's expiry warning."""

    manifest: Manifest
    resolved: Resolved
    desired: Resources
    expiry_warning_hours: int | None
    model: AccessModel | None = None  # the access engine over ``desired``: built once, for validate and the impact


def prepare(path: str, now: Any) -> Prepared:
    """Load, expand and validate the manifest; :class:`ManifestError` if it is invalid."""
    from accessplan.access import AccessModel
    from accessplan.desired import desired_resources
    from accessplan.errors import ManifestError
    from accessplan.loader import load_manifest, no_gc
    from accessplan.model import duration_hours
    from accessplan.resolve import resolve
    from accessplan.validate import validate_manifest

    with no_gc():
        manifest = load_manifest(path)
        resolved = resolve(manifest, now)
        desired = desired_resources(manifest, resolved, now)
        model = AccessModel(desired)
        diagnostics = validate_manifest(manifest, resolved, now, resources=desired, access_model=model)
        if any(d.severity == "error" for d in diagnostics):
            raise ManifestError(diagnostics)
        for d in diagnostics:
            warn(d.render())
    policy = manifest.policy
    hours = duration_hours(policy.expiry_warning) if policy is not None else None
    return Prepared(manifest, resolved, desired, hours, model)


#: The large data of the last plan or apply, kept alive on purpose (see :func:`_keep`).
_KEPT: list[object] = []


def _keep(*objects: object) -> None:
    """Keep a command's large data alive until the process ends.

    :func:`accessplan.cli.run` leaves with ``os._exit`` once the output is
    flushed: a large MSSP's manifest, state and plan are half a gigabyte of
    small objects, and freeing them one by one, when the command returns or at
    interpreter shutdown, costs a tenth of a second or more for nothing. An
    in-process caller (the tests) keeps only the last command's data.
    """
    _KEPT[:] = objects


def _stale_warnings(prepared: Prepared, state: State | None, now: Any) -> None:
    from accessplan.expiry import stale_grant_diagnostics

    for d in stale_grant_diagnostics(prepared.manifest, prepared.resolved, state, now):
        warn(d.render())


def _plan(prepared: Prepared, state: State | None, location: str, s: Settings) -> Plan:
    from accessplan.mssp import finish_plan
    from accessplan.plan import make_plan

    plan = make_plan(prepared.desired, state, s.now, state_location=location, expiry_warning_hours=prepared.expiry_warning_hours,
                     desired_model=prepared.model)
    return finish_plan(plan, state, prepared.desired, prepared.manifest.policy, s.now)  # lifecycle causes and warnings


def _render(plan: Plan, fmt: str, color: bool) -> str:
    if fmt == "json":
        from accessplan.render.json_plan import render_plan_json

        return render_plan_json(plan)
    if fmt == "markdown":
        from accessplan.render.markdown import render_plan_markdown

        return render_plan_markdown(plan)
    from accessplan.render.text import render_plan

    return render_plan(plan, color=color)


@cli.command("plan")
@click.argument("path", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), metavar="FILE", help="Save the plan, for 'accessplan apply FILE'.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output format (markdown: a pull-request comment).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 without changes, 2 with changes (deferred entries are not changes), 1 on error.")
@state_option
@click.pass_context
def plan_command(ctx: click.Context, path: str, out_file: str | None, fmt: str, detailed_exitcode: bool, state_dir: str | None) -> None:
    """Show what applying the manifest at PATH would change."""
    from accessplan.loader import no_gc
    from accessplan.state import open_backend

    s = settings(ctx)
    with no_gc():  # large acyclic data throughout (PERF-NOTES)
        prepared = prepare(path, s.now)
        backend = open_backend(state_dir or s.state_location(path))
        state = backend.read(partner=prepared.manifest.partner.id)
        _stale_warnings(prepared, state, s.now)
        plan = _plan(prepared, state, backend.location, s)
        text = _render(plan, fmt, s.color)
    out(text, nl=False)
    _keep(prepared, state, plan)
    if out_file:
        from accessplan.planfile import write_plan

        write_plan(plan, out_file)
        warn(f"Saved the plan to {out_file}. Apply exactly this plan with: accessplan apply {out_file}")
    elif plan.has_changes and fmt == "text":
        state_flag = f" --state {state_dir or s.state}" if (state_dir or s.state) else ""
        warn(f"To apply it: accessplan apply {path}{state_flag} (or save it with --out FILE and apply that file)")
    if detailed_exitcode and plan.has_changes:
        raise Exit(EXIT_CHANGES)


def _is_saved_plan(target: str) -> bool:
    """A file that is not YAML is a saved plan; a directory or a .yaml/.yml file is a manifest."""
    p = Path(target)
    return p.is_file() and p.suffix.lower() not in (".yaml", ".yml")


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise PlanRefused(
            "apply needs a confirmation, and there is no terminal to ask on",
            "review the plan, then run again with --auto-approve, or apply a saved plan file",
        )
    if not click.confirm("Apply these changes?", default=False):
        raise PlanRefused("apply cancelled: nothing was written")


def _progress(count: int) -> Any:
    if count < _PROGRESS_MIN or not sys.stderr.isatty():
        return nullcontext(None)
    return click.progressbar(length=count, label="Applying", file=sys.stderr)


def _run_apply(plan: Plan, backend: Backend, current: State | None, s: Settings, actor: str | None,
               change_ref: str | None, options: Any) -> None:
    from accessplan.apply import apply_plan

    with _progress(len(plan.applicable)) as bar:

        def advance(done: int) -> None:
            if bar is not None:
                bar.update(done - bar.pos)

        result = apply_plan(plan, backend, now=s.now, actor=actor, change_ref=change_ref, options=options, current=current, progress=advance)
        if bar is not None:
            bar.update(bar.length - bar.pos)
    summary = plan.summary
    if not result.written:
        out("Nothing to apply: the state is unchanged.")
        return
    out(
        f"Apply complete: {summary['add']} added, {summary['change']} changed, {summary['destroy']} destroyed, "
        f"{summary['defer']} deferred. State serial {result.serial_after}."
    )


@cli.command("apply")
@click.argument("target", required=False, default=".", metavar="[PATH | PLANFILE]")
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--force", is_flag=True, help="Allow deleting more than 30 % (and more than 10) of the assignments.")
@click.option("--allow-escalation", is_flag=True, help="Accept the escalations the plan lists.")
@click.option("--allow-customer-removal", is_flag=True, help="Allow removing customers (never a protected one).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS", help="Wait this long for the state lock.")
@click.option("--as", "actor", metavar="EMAIL", help="Who applies (recorded as granted_by and in the audit log).")
@click.option("--change-ref", envvar="ACCESSPLAN_CHANGE_REF", metavar="REF", help="The change behind this apply, e.g. a commit SHA (env ACCESSPLAN_CHANGE_REF).")
@state_option
@click.pass_context
def apply_command(ctx: click.Context, target: str, auto_approve: bool, force: bool, allow_escalation: bool,
                  allow_customer_removal: bool, lock_timeout: float, actor: str | None, change_ref: str | None,
                  state_dir: str | None) -> None:
    """Apply the manifest at PATH (after showing its plan), or exactly the saved plan PLANFILE."""
    from accessplan.apply import ApplyOptions, check_plan
    from accessplan.state import open_backend

    s = settings(ctx)
    actor = _actor(actor)
    options = ApplyOptions(force=force, allow_escalation=allow_escalation, allow_customer_removal=allow_customer_removal)
    if _is_saved_plan(target):
        from accessplan.planfile import read_plan

        plan = read_plan(target)
        backend = open_backend(state_dir or s.state or os.environ.get("ACCESSPLAN_STATE") or plan.state_location)
        with backend.lock(operation="apply", actor=actor, timeout=lock_timeout, now=s.now):
            current = backend.read(partner=plan.partner or None)
            _keep(plan, current)
            _run_apply(plan, backend, current, s, actor, change_ref, options)
        return
    from accessplan.loader import no_gc

    prepared = prepare(target, s.now)
    backend = open_backend(state_dir or s.state_location(target))
    with backend.lock(operation="apply", actor=actor, timeout=lock_timeout, now=s.now), no_gc():
        current = backend.read(partner=prepared.manifest.partner.id)
        _keep(prepared, current)
        _stale_warnings(prepared, current, s.now)
        plan = _plan(prepared, current, backend.location, s)
        out(_render(plan, "text", s.color), nl=False)
        if not plan.has_changes:
            out("Nothing to apply: the state is unchanged.")
            return
        check_plan(plan, current, s.now, options, backend.location, actor=actor)
        _confirm(auto_approve)
        _run_apply(plan, backend, current, s, actor, change_ref, options)


def _actor(value: str | None) -> str | None:
    if value is None:
        return None
    from accessplan.model import EMAIL_RE

    email = value.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccessplanError(f"'{value}' is not a valid email address for --as", "give the email of the person applying")
    return email


@cli.command("show")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@state_option
@click.pass_context
def show_command(ctx: click.Context, fmt: str, state_dir: str | None) -> None:
    """Show the current state (--state, ACCESSPLAN_STATE, or .accessplan/)."""
    from accessplan.state import open_backend

    s = settings(ctx)
    backend = open_backend(state_dir or s.state_location(None))
    state = backend.read()
    if fmt == "json":
        from accessplan.render.json_plan import render_state_json

        out(render_state_json(state), nl=False)
        return
    from accessplan.render.text import render_state

    out(render_state(state, backend.location, color=s.color), nl=False)


@cli.command("export")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), metavar="FILE", help="Write the manifest to FILE (default: standard output).")
@click.option("--schema-ref", default=None, metavar="REF",
              help="Where the $schema modeline points (default: schemas/accessplan.schema.json).")
@state_option
@click.pass_context
def export_command(ctx: click.Context, out_file: str | None, schema_ref: str | None, state_dir: str | None) -> None:
    """Write a manifest that reproduces the current state (planning it shows no changes)."""
    from accessplan.export import DEFAULT_SCHEMA_REF, export_yaml
    from accessplan.state import open_backend

    s = settings(ctx)
    backend = open_backend(state_dir or s.state_location(None))
    state = backend.read()
    if state is None:
        raise AccessplanError(f"there is no state at {backend.location}: nothing to export", "give the state with --state DIR")
    text = export_yaml(state, backend.location, schema_ref=schema_ref or DEFAULT_SCHEMA_REF)
    if out_file is None:
        out(text, nl=False)
        return
    _write_text(Path(out_file), text)
    warn(f"Exported the state (serial {state.serial}) to {out_file}. Check it with: accessplan plan {out_file}")


def _write_text(path: Path, text: str) -> None:
    """Write whole or not at all: a temporary file beside ``path``, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AccessplanError(f"cannot write {path}: {exc.strerror or exc}", "check the path and its permissions") from None
