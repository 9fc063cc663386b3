"""The command line as CI and shells meet it: an example in every --help, click's shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from accessplan.cli import _register, cli, main

ACCESSPLAN = str(Path(sys.executable).parent / "accessplan")


def every_command(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_s_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    _register()
    commands = every_command()
    assert ("fmt",) in commands and ("report",) in commands and len(commands) > 15
    missing = []
    for path in commands:
        assert main([*path, "--help"]) == 0
        text = capsys.readouterr().out
        example = text.split("Example", 1)[1] if "Example" in text else ""
        if "accessplan " not in example:
            missing.append(" ".join(path) or "accessplan")
    assert missing == []


def test_the_report_help_reads_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    assert capsys.readouterr().out.endswith(
        "  Examples:\n"
        "    accessplan report examples/mssp --out access.html\n"
        "    accessplan report manifests/ --plan change.plan --out review.html\n"
    )


def complete(words: str, env: dict[str, str] | None = None) -> str:
    """What bash completion offers after ``words`` (click's protocol, as its bash script calls it)."""
    parts = words.split(" ")
    environ = {**os.environ, "_ACCESSPLAN_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1), **(env or {})}
    return subprocess.run([ACCESSPLAN], env=environ, capture_output=True, text=True, check=True).stdout


def test_bash_completion_script_and_answers() -> None:
    source = subprocess.run([ACCESSPLAN], env={**os.environ, "_ACCESSPLAN_COMPLETE": "bash_source"}, capture_output=True, text=True, check=True)
    assert "_accessplan_completion()" in source.stdout and "complete -o nosort -F _accessplan_completion accessplan" in source.stdout
    assert complete("accessplan fm") == "plain,fmt\n"
    assert complete("accessplan report examples/mssp --") == "plain,--out\nplain,--plan\nplain,--state\nplain,--help\n"
    assert complete("accessplan validate --format ") == "plain,text\nplain,json\nplain,github\n"


def test_zsh_and_fish_completion_scripts_exist() -> None:
    for shell in ("zsh", "fish"):
        done = subprocess.run([ACCESSPLAN], env={**os.environ, "_ACCESSPLAN_COMPLETE": f"{shell}_source"}, capture_output=True, text=True, check=True)
        assert "accessplan" in done.stdout and "_ACCESSPLAN_COMPLETE" in done.stdout
