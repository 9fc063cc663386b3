"""Running the CLI in-process for the validate, hardening and schema tests.

The command runs through :func:`accessplan.cli.main`, the same entry point as
the console script, so exit codes and the "no traceback" mapping are exercised
too. The working directory is set so that paths in messages are relative, as
a user running ``accessplan validate`` from the repository would see them.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from accessplan.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "validate"
NOW = "2026-11-23T09:00:00Z"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def run(*args: str, cwd: Path = FIXTURES) -> Result:
    """``accessplan --now NOW ARGS...`` in ``cwd``; stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--now", NOW, *args])
    return Result(code, out.getvalue(), err.getvalue())
