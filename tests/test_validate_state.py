"""``validate`` learns from a state when there is one: grants whose relative expiry has passed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from accessplan.cli import cli, main
from plan_helpers import approve

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mssp"
T0 = "2026-11-23T09:00:00Z"


def run(args: list[str], cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    code = main(args)
    return code, capsys.readouterr().out


@pytest.fixture
def applied(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example applied at T0 with every customer approved."""
    work = tmp_path / "mssp"
    shutil.copytree(EXAMPLE, work)
    assert run(["--now", T0, "apply", ".", "--auto-approve", "--allow-escalation"], work, capsys, monkeypatch)[0] == 0
    approve(work / ".accessplan", "globex", "initech", "umbrella", "vandelay")
    assert run(["--now", T0, "apply", ".", "--auto-approve", "--allow-escalation"], work, capsys, monkeypatch)[0] == 0
    return work


def test_a_grant_whose_48h_have_passed_is_stale(applied: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(["--now", "2026-11-26T09:00:00Z", "validate", "."], applied, capsys, monkeypatch)
    assert code == 0
    assert out == (
        "grants.yaml:36:15: warning: the grant's 48h access has expired for priya.raman@bastionsec.example at initech "
        "(expired 2026-11-25T09:00:00Z); it is not granted again while the grant is unchanged "
        "(hint: remove the grant, or give it a new duration to grant the access again)\n"
        ".: valid, 0 errors, 1 warning (5 customers, 8 partner users, 20 assignments)\n"
    )
    code, _ = run(["--now", "2026-11-26T09:00:00Z", "validate", "--strict", "."], applied, capsys, monkeypatch)
    assert code == 1


def test_before_the_expiry_nothing_is_said(applied: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run(["--now", "2026-11-24T09:00:00Z", "validate", "."], applied, capsys, monkeypatch)
    assert (code, out) == (0, ".: valid, 0 errors, 0 warnings (5 customers, 8 partner users, 20 assignments)\n")


def test_an_unusable_state_is_an_error_at_its_location(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "mssp"
    shutil.copytree(EXAMPLE, work)
    (work / ".accessplan").mkdir()
    (work / ".accessplan" / "state.json").write_text("{not json")
    code, out = run(["--now", T0, "validate", "."], work, capsys, monkeypatch)
    assert code == 1
    assert out == (
        ".accessplan: error: .accessplan/state.json: state is not valid JSON (line 1 column 2) "
        "(hint: fix or restore it by hand; accessplan never overwrites a state it cannot read)\n"
        ".: invalid, 1 error, 0 warnings (5 customers, 8 partner users, 20 assignments)\n"
    )


def test_without_a_state_validate_reads_none(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--now", T0, "validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
