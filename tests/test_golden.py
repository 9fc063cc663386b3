"""Golden files: the text, JSON and Markdown plans of examples/mssp, on an empty state and for a realistic change.

The clock is pinned (``--now``) and the state's lineage fixed, so the plans are
byte-stable. A difference fails the test; when it is intended, regenerate the
files on purpose and review them in the diff:

    ACCESSPLAN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

The realistic change, made to a state where every customer approved the
partner and everything was applied:

* a role redefinition: the custom role "Tier 1 Analyst" now administers
  collectors (an escalation for every member of the groups using it, in every
  customer where they are used);
* a new log in a selected set: ``gcp-audit`` joins Umbrella's "Cloud" set,
  which Priya's group selects (so she gains it), and ``fw-edge-3`` joins
  Globex's "Firewall" set, which Tier 1 selects with ``fw-edge-2`` restricted
  (a selection that does not cover logs added later);
* a grant narrowed: the reports mailbox keeps Globex only, losing Umbrella.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest
from plan_helpers import T0, approve

from accessplan.cli import main

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
EXAMPLE = HERE.parent / "examples" / "mssp"
LINEAGE = "6d1a3b64-0c55-4d2e-9a57-0f3c2b9d8e10"
FORMATS = {"txt": "text", "json": "json", "md": "markdown"}
UPDATE = os.environ.get("ACCESSPLAN_UPDATE_GOLDEN") == "1"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--now", T0, "--state", "state", *args])
    return code, capsys.readouterr().out


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def realistic_change(capsys: pytest.CaptureFixture[str]) -> None:
    """Apply examples/mssp with every customer approved, then change it (in the current directory)."""
    shutil.copytree(EXAMPLE, "mssp")
    assert run(capsys, "apply", "mssp", "--auto-approve", "--allow-escalation")[0] == 0
    state = Path("state/state.json")
    doc = orjson.loads(state.read_bytes())
    doc["lineage"] = LINEAGE  # a fixed lineage, so that the plans are byte-stable
    state.write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    approve(Path("state"), "globex", "initech", "umbrella", "vandelay")
    assert run(capsys, "apply", "mssp", "--auto-approve", "--allow-escalation")[0] == 0
    edit(Path("mssp/roles.yaml"), "      Collector: View Only\n", "      Collector: Administer\n")
    edit(Path("mssp/customers/umbrella.yaml"), "logs: [aws-cloudtrail, azure-activity]", "logs: [aws-cloudtrail, azure-activity, gcp-audit]")
    edit(Path("mssp/customers/globex.yaml"), "logs: [fw-edge-1, fw-edge-2]", "logs: [fw-edge-1, fw-edge-2, fw-edge-3]")
    edit(Path("mssp/grants.yaml"), "  - users: [soc-reports@bastionsec.example]\n    customers: {labels: {tier: gold}}",
         "  - users: [soc-reports@bastionsec.example]\n    customers: [globex]")


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run ACCESSPLAN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (regenerate on purpose, then review the diff)"


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_the_example_on_an_empty_state(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ext: str) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLE, "mssp")
    code, text = run(capsys, "plan", "mssp", "--format", FORMATS[ext], "--detailed-exitcode")
    assert code == 2
    check(f"mssp-empty.{ext}", text)


def test_a_realistic_change(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    realistic_change(capsys)
    for ext, fmt in sorted(FORMATS.items()):
        code, text = run(capsys, "plan", "mssp", "--format", fmt, "--detailed-exitcode")
        assert code == 2
        check(f"mssp-change.{ext}", text)
    doc = orjson.loads((GOLDEN / "mssp-change.json").read_bytes())
    people = {(i["customer"], i["user"]) for i in doc["impact"] if i["gained"].get("features", {}).get("InsightIDR", {}).get("Collector")}
    tier1 = {(c, u) for c in ("globex", "initech") for u in ("liam.oconnor@bastionsec.example", "sofia.lindqvist@bastionsec.example")}
    assert people == tier1
