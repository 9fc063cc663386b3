"""The command line: the only place that prints or exits.

Each command is a thin function in a module of this package; it imports what it
needs when it runs, so that ``validate`` in a pre-commit hook does not pay for
the planner. One place (:func:`main`) turns exceptions into exit codes:
0 success, 1 a user-facing error, 2 changes present (``--detailed-exitcode``),
3 an internal error.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from accessplan.errors import AccessplanError, sanitize

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Settings:
    """Global options every command may read."""

    state: str | None
    color: bool
    now: datetime

    def state_location(self, manifest_path: str | Path | None) -> str:
        """``--state``, else ``ACCESSPLAN_STATE``, else ``.accessplan/`` beside the manifest."""
        if self.state:
            return self.state
        env = os.environ.get("ACCESSPLAN_STATE")
        if env:
            return env
        if manifest_path is None:
            return ".accessplan"
        p = Path(manifest_path)
        base = p.parent if p.is_file() else p
        return str(base / ".accessplan")


def parse_now(value: str | None) -> datetime:
    """``--now``/``ACCESSPLAN_NOW``: an ISO 8601 time; naive times are UTC."""
    if not value:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AccessplanError(f"invalid time '{value}' for --now", "write an ISO 8601 time, e.g. 2026-11-23T09:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def out(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print text whose user-supplied parts were already sanitized by the renderer."""
    click.echo(text, err=err, nl=nl)


def warn(text: str) -> None:
    click.echo(sanitize(text), err=True)


class Exit(Exception):
    """Leave with a specific exit code after normal output (e.g. 2 for changes)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--state", "state", metavar="DIR", help="State location (default: .accessplan/ beside the manifest; env ACCESSPLAN_STATE).")
@click.option("--no-color", is_flag=True, help="Plain output (also when NO_COLOR is set).")
@click.option("--now", "now", metavar="TIME", envvar="ACCESSPLAN_NOW", help="Pin the clock (ISO 8601; env ACCESSPLAN_NOW).")
@click.version_option(package_name="accessplan")
@click.pass_context
def cli(ctx: click.Context, state: str | None, no_color: bool, now: str | None) -> None:
    """accessplan: access management as code for MSSPs."""
    color = not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    ctx.obj = Settings(state=state, color=color, now=parse_now(now))


def _register() -> None:
    from accessplan.cli import commands  # noqa: F401  (commands attach themselves to `cli`)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a command and map what happened to an exit code."""
    # A run is short and builds hundreds of thousands of acyclic containers;
    # cyclic collection would rescan them again and again for nothing (PERF-NOTES:
    # it is most of the cost of loading). Memory is returned when the process ends.
    gc.disable()
    _register()
    try:
        cli.main(args=argv, prog_name="accessplan", standalone_mode=False)
        return EXIT_OK
    except Exit as exc:
        return exc.code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_ERROR
    except click.UsageError as exc:
        click.echo(f"error: {sanitize(exc.format_message())}", err=True)
        if exc.ctx is not None:
            click.echo(f"(see '{exc.ctx.command_path} --help')", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        click.echo(f"error: {sanitize(exc.format_message())}", err=True)
        return EXIT_ERROR
    except AccessplanError as exc:
        click.echo(exc.render(), err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into exit 3
        if os.environ.get("ACCESSPLAN_DEBUG") == "1":
            import traceback

            traceback.print_exc()
        click.echo(f"accessplan: an unexpected error has occurred: {type(exc).__name__}: {sanitize(str(exc))}", err=True)
        click.echo("(set ACCESSPLAN_DEBUG=1 for the traceback, and please report it)", err=True)
        return EXIT_INTERNAL


def run() -> None:
    code = main()
    # The process ends here. A large plan leaves half a gigabyte of small
    # objects behind (kept alive on purpose, see plan_cmd._keep); interpreter
    # shutdown would free them one by one. Flush what was printed and leave.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: what was printed could not be delivered anyway
        pass
    os._exit(code)
