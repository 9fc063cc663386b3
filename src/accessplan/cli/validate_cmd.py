"""``accessplan validate PATH...`` and ``accessplan schema``.

``validate`` runs in pre-commit hooks and on every pull request, so it prints
what a person or a CI runner needs and nothing else: the diagnostics (one line
each, in reading order) and one summary line per manifest, on standard output;
exit 0 when every manifest is valid, 1 otherwise. ``--format json`` is for
programs, ``--format github`` for GitHub Actions annotations.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from accessplan.cli import EXIT_ERROR, Exit, Settings, cli, out, settings
from accessplan.errors import sanitize

if TYPE_CHECKING:
    from accessplan.errors import Diagnostic
    from accessplan.validate import Report

FORMAT_VERSION = 1


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text for people, json for programs, github for GitHub Actions annotations.",
)
@click.option("--max-bytes", type=click.IntRange(min=1), default=None, metavar="N", help="Refuse files larger than N bytes (default 64 MiB).")
@click.pass_context
def validate_command(ctx: click.Context, paths: tuple[str, ...], strict: bool, fmt: str, max_bytes: int | None) -> None:
    """Check manifests: schema, cross-references, licensing, grants and policy.

    Each PATH (a YAML file or a directory of them) is its own manifest.
    """
    from accessplan.loader import DEFAULT_MAX_BYTES
    from accessplan.validate import validate_path

    s = settings(ctx)
    reports = [
        validate_path(p, now=s.now, strict=strict, max_bytes=max_bytes or DEFAULT_MAX_BYTES, state_location=_state_for(s, p))
        for p in paths
    ]
    if fmt == "json":
        out(render_json(reports))
    else:
        for report in reports:
            for d in report.diagnostics:
                out(github_annotation(d) if fmt == "github" else one_line(d.render()))
            out(one_line(summary_line(report)))
    if not all(r.valid for r in reports):
        raise Exit(EXIT_ERROR)


def _state_for(s: Settings, path: str) -> str | None:
    """The state to read for stale grants: the one given (``--state``, env), else
    the default ``.accessplan/`` beside the manifest when it exists. ``validate``
    never needs a state; it only learns more from one."""
    if s.state or os.environ.get("ACCESSPLAN_STATE"):
        return s.state_location(path)
    default = s.state_location(path)
    return default if Path(default, "state.json").exists() else None


def one_line(text: str) -> str:
    """Keep one diagnostic on one line: a newline inside a name is shown, not obeyed."""
    return text.replace("\n", "\\n")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(report: Report) -> str:
    """``PATH: valid, 0 errors, 0 warnings (5 customers, 8 partner users, 22 assignments)``."""
    state = "valid" if report.valid else "invalid"
    line = f"{sanitize(report.path)}: {state}, {_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}"
    s = report.summary()
    if s["customers"] is not None:
        line += f" ({_count(s['customers'] or 0, 'customer')}, {_count(s['partner_users'] or 0, 'partner user')}, {_count(s['assignments'] or 0, 'assignment')})"
    return line


def render_json(reports: list[Report]) -> str:
    def diagnostic(d: Diagnostic) -> dict[str, object]:
        data = d.as_json()
        data["message"] = sanitize(d.message)
        data["hint"] = sanitize(d.hint) if d.hint else None
        return data

    document = {
        "format_version": FORMAT_VERSION,
        "manifests": [
            {
                "diagnostics": [diagnostic(d) for d in r.diagnostics],
                "path": r.path,
                "summary": r.summary(),
                "valid": r.valid,
            }
            for r in reports
        ],
        "valid": all(r.valid for r in reports),
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def _escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF must be escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(d: Diagnostic) -> str:
    """``::error file=F,line=L,col=C,title=accessplan::MESSAGE`` for GitHub Actions."""
    props = [f"file={_escape_property(sanitize(d.position.file))}"]
    if d.position.line > 0:
        props += [f"line={d.position.line}", f"col={d.position.column}"]
    props.append("title=accessplan")
    text = sanitize(d.message) + (f" (hint: {sanitize(d.hint)})" if d.hint else "")
    return f"::{d.severity} {','.join(props)}::{_escape_data(text)}"


@cli.command("schema")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", help="Write the schema to FILE instead of printing it.")
def schema_command(out_path: Path | None) -> None:
    """Print the JSON Schema of one manifest file (for editors).

    Regenerate the checked-in copy with:
    accessplan schema --out schemas/accessplan.schema.json
    """
    from accessplan.schema import schema_text

    text = schema_text()
    if out_path is None:
        out(text, nl=False)
        return
    out_path.write_text(text, encoding="utf-8")
    out(f"wrote {sanitize(str(out_path))}", err=True)
