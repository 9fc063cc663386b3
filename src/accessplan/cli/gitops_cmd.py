"""Commands for review and CI: ``fmt`` and ``report``; and an example in every command's help.

``fmt`` gives manifests one canonical layout, so that a pull request shows the
access change and nothing else (``--check`` for CI and pre-commit). ``report``
writes the access matrix as one HTML page for reviewers. Both import their
modules when they run: the CLI starts fast in a pre-commit hook.
"""

from __future__ import annotations

from pathlib import Path

import click

from accessplan.cli import EXIT_ERROR, Exit, cli, out, settings, warn
from accessplan.errors import AccessplanError, sanitize


@cli.command("fmt")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--check", is_flag=True, help="Change nothing: list the files that would change, and exit 1 if there are any.")
@click.option("--diff", "show_diff", is_flag=True, help="Also print each change as a unified diff.")
def fmt_command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite manifest files in the canonical layout, keeping every comment.

    Keys in the order of the SPEC's example, two spaces per level, sequences
    indented under their key. Each PATH is a file or a directory (searched like
    a manifest). Prints the files it changes (with --check: would change).
    """
    from accessplan.fmt import format_file, manifest_files, write
    from accessplan.loader import DEFAULT_MAX_BYTES, display_name

    failed = False
    changed = 0
    for target in paths:
        try:
            files = manifest_files(Path(target))
        except AccessplanError as exc:
            warn(exc.render())
            failed = True
            continue
        if not files:
            warn(f"error: {target}: no manifest files (*.yaml, *.yml) found (hint: give a manifest file or directory)")
            failed = True
        for path in files:
            result = format_file(path, display_name(path), DEFAULT_MAX_BYTES)
            if result.error is not None:
                warn(result.error.render())
                failed = True
                continue
            if not result.changed:
                continue
            changed += 1
            out(sanitize(result.name))
            if show_diff:
                out(sanitize(result.diff()), nl=False)
            if not check:
                write(result)
    if check and changed:
        warn(f"{changed} file{'' if changed == 1 else 's'} would be reformatted: run 'accessplan fmt PATH'")
        failed = True
    if failed:
        raise Exit(EXIT_ERROR)


@cli.command("report")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.html", help="Where to write the page.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), metavar="PLANFILE", help="Highlight the access a saved plan changes.")
@click.option("--state", "state_dir", metavar="DIR", help="State location (the global --state, given here).")
@click.pass_context
def report_command(ctx: click.Context, path: str, out_file: Path, plan_file: Path | None, state_dir: str | None) -> None:
    """Write an HTML access report: users x customers, conflicts, expiries, pending customers.

    One self-contained file: it loads nothing from the network. With a state,
    relationships and expiry times are as applied; with --plan, the access the
    plan would change is highlighted.
    """
    from accessplan.cli.plan_cmd import prepare
    from accessplan.loader import no_gc
    from accessplan.report import ReportInput, build_report
    from accessplan.report_html import render_report_html
    from accessplan.state import open_backend

    s = settings(ctx)
    with no_gc():
        prepared = prepare(path, s.now)
        backend = open_backend(state_dir or s.state_location(path))
        state = backend.read(partner=prepared.manifest.partner.id)
        plan = _read_plan(plan_file, prepared.manifest.partner.id) if plan_file is not None else None
        report = build_report(
            ReportInput(prepared.manifest, prepared.desired, state, backend.location, s.now, plan, str(plan_file or ""))
        )
        html = render_report_html(report)
    _write_page(out_file, html)
    counts = report["counts"]
    warn(
        f"Wrote {out_file}: {counts['users']:,} partner users x {counts['customers']:,} customers, "
        f"{counts['assignments']:,} assignments, {counts['conflicts']:,} conflicts, {counts['expiring']:,} expiring."
    )


def _read_plan(path: Path, partner: str) -> dict[str, object]:
    """A saved plan's document, verified like ``apply`` verifies it (not altered, readable)."""
    import orjson

    from accessplan.planfile import read_plan

    plan = read_plan(path)
    if plan.partner and plan.partner != partner:
        raise AccessplanError(f"{path}: the plan is for partner '{plan.partner}', the manifest declares '{partner}'", "give the plan made from this manifest")
    doc = orjson.loads(path.read_bytes())
    assert isinstance(doc, dict)
    return doc


def _write_page(path: Path, html: str) -> None:
    import os
    import secrets

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AccessplanError(f"cannot write {path}: {exc.strerror}", "check the path") from None


# --- an example in every command's help -------------------------------------------

#: Examples for ``--help``, by command path. Commands whose help already shows one keep it.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "accessplan validate examples/mssp",
        "accessplan --now 2026-11-23T09:00:00Z plan examples/mssp --state /tmp/mssp-state",
        "eval \"$(_ACCESSPLAN_COMPLETE=bash_source accessplan)\"   # shell completion (bash; zsh_source, fish_source)",
    ),
    "validate": ("accessplan validate examples/mssp", "accessplan validate --strict --format github manifests/"),
    "schema": ("accessplan schema --out schemas/accessplan.schema.json",),
    "plan": (
        "accessplan plan examples/mssp --state /tmp/mssp-state",
        "accessplan plan manifests/ --format markdown --out change.plan > plan.md",
    ),
    "apply": ("accessplan apply change.plan --change-ref \"$(git rev-parse HEAD)\"", "accessplan apply examples/mssp --as maria.santos@bastionsec.example"),
    "show": ("accessplan show --state /tmp/mssp-state --format json",),
    "export": ("accessplan export --state /tmp/mssp-state > exported.yaml",),
    "explain": ("accessplan explain examples/mssp liam.oconnor@bastionsec.example --customer globex",),
    "who-can": ("accessplan who-can examples/mssp --customer globex --product InsightIDR --level Administer",),
    "test": ("accessplan test examples/mssp --junit accessplan-tests.xml",),
    "review": ("accessplan review examples/mssp --format csv > review.csv",),
    "report": ("accessplan report examples/mssp --out access.html", "accessplan report manifests/ --plan change.plan --out review.html"),
    "fmt": ("accessplan fmt examples/mssp", "accessplan fmt --check --diff manifests/"),
    "customer": ("accessplan customer approve globex --as nadia.petrova@globex.example",),
    "customer approve": ("accessplan customer approve globex --as nadia.petrova@globex.example",),
    "customer revoke": ("accessplan customer revoke globex --as nadia.petrova@globex.example",),
    "customer notifications": ("accessplan customer notifications globex --on-grant --no-on-removal",),
    "poc": ("accessplan poc email soylent InsightIDR examples/mssp --extend",),
    "poc email": ("accessplan poc email soylent InsightIDR examples/mssp --extend",),
    "state": ("accessplan state migrate --from .accessplan --to postgresql://accessplan@db.example/accessplan",),
    "state migrate": ("accessplan state migrate --from .accessplan --to postgresql://accessplan@db.example/accessplan",),
}


def has_example(command: click.Command) -> bool:
    return "Example" in (command.help or "") + (command.epilog or "")


def attach_examples(group: click.Group = cli, prefix: str = "") -> None:
    """Give every command (and subcommand) without an example in its help one from :data:`EXAMPLES`."""
    if not prefix:
        _add_example(group, "")
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        _add_example(command, path)
        if isinstance(command, click.Group):
            attach_examples(command, f"{path} ")


def _add_example(command: click.Command, path: str) -> None:
    examples = EXAMPLES.get(path)
    if examples and not has_example(command):
        lines = "\n".join(f"  {line}" for line in examples)
        command.epilog = f"\b\nExample{'s' if len(examples) > 1 else ''}:\n{lines}"
