"""Small, fast versions of the reliability trials of ``make reliability``, so CI guards them.

The full trials (``benchmarks/reliability.py``: 1,000 SIGKILLs, every I/O
failure of an apply, 8 x 50 racing applies, 100,000 fuzzed manifests) take
half an hour; these take well under a minute. SIGKILLs at random moments are
``tests/test_crash.py``'s job (50 of them); here a handful only proves that the
trial itself still works. Failing disks are injected at the CLI level here
(``tests/test_state.py`` covers the backend itself): a whole ``accessplan
apply`` with one failing write, fsync, rename or directory fsync, with its
exact message and the state checked afterwards.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from plan_helpers import Cli, big_manifest
from validate_support import run

from accessplan import jsonstate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from trial_attacks import attack_trial  # noqa: E402
from trial_faults import fault_trial  # noqa: E402
from trial_fuzz import fuzz_trial  # noqa: E402
from trial_kill import kill_trial  # noqa: E402
from trial_locks import lock_trial  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reliability"


def describe(trial: Any) -> str:
    return f"{trial.name}: {trial.failures} failures: {trial.examples}"


# -- crashes, racing writers -----------------------------------------------------------


def test_a_few_kills_during_apply_leave_the_old_or_the_new_state(tmp_path: Path) -> None:
    trial = kill_trial(tmp_path, 4, workers=1)
    assert trial.passed, describe(trial)
    assert trial.runs == trial.facts["killed"] == 4
    assert trial.facts["attempts"] == trial.facts["killed"] + trial.facts["completed"]


def test_eight_racing_writers_lose_no_update_and_losers_learn_the_holder(tmp_path: Path) -> None:
    trial = lock_trial(tmp_path, writers=8, applies=2)
    assert trial.passed, describe(trial)
    assert trial.facts["applies"] == 16
    assert trial.facts["lost updates"] == 0
    assert trial.facts["losers told the holder"] == trial.facts["losers (no wait)"]


# -- a failing disk, through the CLI ---------------------------------------------------


class FailingDisk:
    """Makes one I/O hook of the JSON backend fail for one target file.

    ``_write``/``_fsync`` fail on a descriptor open on ``target`` (or on its
    temporary file), ``_replace`` when renaming onto ``target``, ``_fsync_dir``
    on the directory sync right after ``target`` was renamed into place.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hook: str, target: str, code: int) -> None:
        self.hook, self.target, self.code = hook, target, code
        self.last_replaced = ""
        self.failed = 0
        for name in ("_write", "_fsync", "_replace", "_fsync_dir"):
            monkeypatch.setattr(jsonstate, name, self._wrap(name, getattr(jsonstate, name)))

    def _aimed(self, name: str, args: tuple[Any, ...]) -> bool:
        if name in ("_write", "_fsync"):
            base = os.path.basename(os.readlink(f"/proc/self/fd/{args[0]}"))
            return base == self.target or base.startswith(f".{self.target}.tmp-")
        if name == "_replace":
            return bool(os.path.basename(args[1]) == self.target)
        return self.last_replaced == self.target

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def hook(*args: Any) -> Any:
            if name == self.hook and not self.failed and self._aimed(name, args):
                self.failed += 1
                raise OSError(self.code, os.strerror(self.code))
            result = real(*args)
            if name == "_replace":
                self.last_replaced = os.path.basename(args[1])
            return result

        return hook


UNCHANGED = "(hint: the state is unchanged; free space or fix the disk, then apply again)"


def test_the_fault_trial_counts_the_hooks_and_judges_a_few_failures(tmp_path: Path) -> None:
    # The full trial (make reliability) runs every call of every hook; here the
    # machinery itself: the counting apply, and one failing call of two hooks.
    trial = fault_trial(tmp_path, hooks=("_write", "_replace"), errnos=("ENOSPC",), max_calls=1)
    assert trial.passed, describe(trial)
    assert trial.runs == 2
    counted = dict(item.rsplit(" ", 1) for item in trial.facts["calls per apply"].split(", "))
    assert int(counted["_write"]) >= 2 and int(counted["_replace"]) >= 2  # state, journal, backup, audit...


@pytest.mark.parametrize(
    ("hook", "target", "code", "message"),
    [
        ("_write", "state.json", errno.ENOSPC, "error: could not write state: No space left on device (writing {d}/state.json) " + UNCHANGED),
        ("_write", "state.json", errno.EIO, "error: could not write state: Input/output error (writing {d}/state.json) " + UNCHANGED),
        ("_fsync", "state.json", errno.EIO, "error: could not write state: Input/output error (syncing {d}/state.json) " + UNCHANGED),
        ("_fsync", "state.json", errno.ENOSPC, "error: could not write state: No space left on device (syncing {d}/state.json) " + UNCHANGED),
        ("_replace", "state.json", errno.ENOSPC, "error: could not write state: No space left on device (replacing {d}/state.json) " + UNCHANGED),
        ("_replace", "state.json", errno.EIO, "error: could not write state: Input/output error (replacing {d}/state.json) " + UNCHANGED),
        ("_fsync_dir", "state.json", errno.EIO, "error: could not write state: Input/output error (syncing directory {d}) " + UNCHANGED),
        ("_fsync_dir", "state.json", errno.ENOSPC, "error: could not write state: No space left on device (syncing directory {d}) " + UNCHANGED),
        ("_write", "state.json.journal", errno.ENOSPC,
         "error: could not write state: No space left on device (writing {d}/state.json.journal) " + UNCHANGED),
        ("_replace", "state.json.backup", errno.EIO,
         "error: could not write state: Input/output error (replacing {d}/state.json.backup) " + UNCHANGED),
    ],
)
def test_a_failing_disk_refuses_the_apply_and_keeps_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, hook: str, target: str, code: int, message: str
) -> None:
    cli, new = _two_versions(tmp_path, capsys)
    before = cli.state_bytes()
    disk = FailingDisk(monkeypatch, hook, target, code)
    result = cli("apply", str(new), "--auto-approve")
    assert (result.code, result.err) == (1, message.format(d=cli.state) + "\n")
    assert disk.failed == 1
    assert cli.state_bytes() == before
    _recovers(cli, new, serial=2)


def test_a_failing_audit_log_says_the_state_was_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cli, new = _two_versions(tmp_path, capsys)
    FailingDisk(monkeypatch, "_write", "audit.jsonl", errno.ENOSPC)
    result = cli("apply", str(new), "--auto-approve")
    assert (result.code, result.err) == (1, (
        f"error: state saved as serial 2, but its audit record and notifications are pending: No space left on device "
        f"(appending to {cli.state}/audit.jsonl) (hint: free space or fix the disk; the next apply or customer action writes them)\n"
    ))
    assert orjson.loads(cli.state_bytes())["serial"] == 2
    monkeypatch.undo()
    _recovers(cli, new, serial=2)


def _two_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Cli, Path]:
    """A state holding one version of a manifest, and the next version (one rename) to apply."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(big_manifest(4, 3, "Old Name"), encoding="utf-8")
    new.write_text(big_manifest(4, 3, "New Name"), encoding="utf-8")
    cli = Cli(capsys, tmp_path / "state")
    assert cli("apply", str(old), "--auto-approve", "--allow-escalation").code == 0
    return cli, new


def _recovers(cli: Cli, manifest: Path, serial: int) -> None:
    """The next apply, on a healthy disk, succeeds and leaves a clean directory and a whole audit log."""
    jsonstate_names = sorted(p.name for p in cli.state.iterdir())
    result = cli("apply", str(manifest), "--auto-approve")
    assert result.code == 0, result.err
    doc = orjson.loads(cli.state_bytes())
    assert doc["serial"] == serial
    assert doc["resources"]["customer/c000"]["spec"]["name"] == "New Name"
    names = sorted(p.name for p in cli.state.iterdir())
    assert names == ["audit.jsonl", "state.json", "state.json.backup", "state.lock"], (jsonstate_names, names)
    audit = [orjson.loads(line) for line in (cli.state / "audit.jsonl").read_bytes().splitlines()]
    assert [(a["serial_before"], a["serial_after"]) for a in audit] == [(None, 1), (1, 2)]


# -- fuzzed and hostile input -----------------------------------------------------------


def test_five_hundred_fuzzed_manifests_give_no_traceback_and_no_hang(tmp_path: Path) -> None:
    trial = fuzz_trial(tmp_path, 500, workers=2, timeout=20.0)
    assert trial.passed, describe(trial)
    assert trial.runs == 500
    assert trial.facts["valid"] > 0  # some cases reach plan, apply, test and explain


def test_a_character_yaml_forbids_is_refused_with_its_position_not_a_crash() -> None:
    # Found by the fuzzer: yaml-rs accepted DEL, and the file crashed when a
    # warning asked the strict reader for positions.
    result = run("validate", "control_character.yaml", cwd=FIXTURES)
    assert result.out == (
        "control_character.yaml:4:13: error: invalid YAML: character U+007F is not allowed (hint: remove the control character)\n"
        "control_character.yaml: invalid, 1 error, 0 warnings\n"
    )
    assert result.code == 1


def test_a_file_only_the_strict_reader_refuses_is_reported_when_positions_are_needed(tmp_path: Path) -> None:
    # Found by the fuzzer: yaml-rs reads "?odd?" in a flow mapping, libyaml refuses
    # it; the warning about a single platform administrator asks for positions.
    result = run("validate", "question_mark.yaml", cwd=FIXTURES)
    line = "question_mark.yaml:3:32: error: invalid YAML: did not find expected node content"
    assert (result.code, result.out) == (1, f"{line}\nquestion_mark.yaml: invalid, 1 error, 0 warnings\n")
    plan = run("--state", str(tmp_path / "state"), "plan", "question_mark.yaml", cwd=FIXTURES)
    assert (plan.code, plan.out, plan.err) == (1, "", f"{line}\n")


ATTACK_OUTPUT = {
    "billion laughs (9 levels x 10)": "laughs.yaml:6:27: error: aliases expand to more than 100,000 nodes (hint: this looks like an alias bomb; write the data out instead)",
    "alias fan-out (1,000-item anchor x 200 aliases)": "fanout.yaml:2:405: error: aliases expand to more than 100,000 nodes (hint: this looks like an alias bomb; write the data out instead)",
    "200,000 aliases to one scalar": "scalars.yaml:2:400005: error: aliases expand to more than 100,000 nodes (hint: this looks like an alias bomb; write the data out instead)",
    "nesting 65 levels (flow)": "deep65.yaml:1:67: error: nesting deeper than 64 levels (hint: a manifest needs only a few levels; flatten the structure)",
    "nesting 100,000 levels (flow)": "deep100k.yaml:1:65: error: nesting deeper than 64 levels (hint: a manifest needs only a few levels; flatten the structure)",
    "nesting 1,000 levels (block)": "deepblock.yaml:65:129: error: nesting deeper than 64 levels (hint: a manifest needs only a few levels; flatten the structure)",
    "tag !!python/object/apply": "python.yaml:1:10: error: tag '!!python/object/apply:os.system' is not allowed (hint: manifests use plain YAML 1.2 core types; remove the tag)",
    "local tag !Foo": "local.yaml:2:9: error: tag '!Foo' is not allowed (hint: manifests use plain YAML 1.2 core types; remove the tag)",
    "%YAML 1.1 directive": "yaml11.yaml:1:1: error: %YAML 1.1 is not supported (hint: manifests are YAML 1.2; remove the %YAML directive)",
    "duplicate key": "dup.yaml:2:1: error: duplicate key 'version' (hint: each key may appear once in a mapping)",
    "yes as a boolean": "yes.yaml:2:43: error: forbid_permanent_platform_admin: expected true or false, got the string 'yes' (hint: YAML 1.2 booleans are the words true and false, unquoted)",
    "on as a boolean": "on.yaml:2:43: error: forbid_permanent_platform_admin: expected true or false, got the string 'on' (hint: YAML 1.2 booleans are the words true and false, unquoted)",
    '"true" as a boolean': "quoted.yaml:2:43: error: forbid_permanent_platform_admin: expected true or false, got the string 'true' (hint: YAML 1.2 booleans are the words true and false, unquoted)",
    "invalid date 2026-02-30": "date.yaml:5:69: error: invalid date '2026-02-30': day is out of range for month (hint: write an existing date as YYYY-MM-DD)",
    "file over 64 MiB (sparse, 65 MiB)": "huge.yaml: error: file is 68,157,440 bytes, over the limit of 67,108,864 (hint: split the manifest into several files, or raise the limit with --max-bytes)",
    "number of 20,000 digits": "digits.yaml:1:10: error: expected 1, got a long string",
    "10 MB scalar": "long.yaml:2:24: error: name: is longer than 200 characters",
    "not UTF-8 (Latin-1)": "latin1.yaml:2:20: error: file is not valid UTF-8 (hint: save the file as UTF-8)",
    "UTF-16": "utf16.yaml: error: file is not UTF-8 (it looks like UTF-16) (hint: save the file as UTF-8)",
    "binary file": "binary.yaml: error: file is binary, not a YAML manifest (hint: give a YAML text file)",
    "empty file": "empty.yaml:1:1: error: file is empty (hint: remove it, or write a manifest into it, starting with 'version: 1')",
    "directory with no manifest": "no-manifest: error: no manifest files (*.yaml, *.yml) found (hint: give a directory holding the manifest)",
}


def test_the_yaml_attacks_are_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    # Whole processes on a shared CI machine: a looser time bound than the full trial's 2 s.
    trial, rows = attack_trial(tmp_path, max_seconds=4.0, max_rss_mb=150.0)
    assert trial.passed, describe(trial)
    outputs = {name: output for name, _, _, _, output in rows}
    assert sorted(outputs) == sorted(ATTACK_OUTPUT)
    for name, line in ATTACK_OUTPUT.items():
        shown = line.split(":", 1)[0]
        assert outputs[name] == f"{line}\n{shown}: invalid, 1 error, 0 warnings\n", name
