"""The text and JSON renderings of a plan, and ``show``'s of a state."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from plan_helpers import BOB_24H, GLOBEX, PARTNER, Cli, write_manifest
from test_plan import NOW, applied, assignment, customer, desired, group

from accessplan.plan import Plan, make_plan
from accessplan.render.json_plan import render_plan_json
from accessplan.render.text import render_plan

LINEAGE = "00000000-0000-4000-8000-000000000000"

GOLDEN = """\
accessplan plan for partner acme
State: st (lineage 00000000-0000-4000-8000-000000000000, serial 2)
Made at 2026-11-23T09:00:00Z

Escalations: 1 to accept with --allow-escalation, 1 deferred
  ! assignment/globex/bob@acme: new access to customer globex
  ! user/initech/x@initech: gains platform administrator (deferred)

Access impact: 3 changes of access for 3 people in 2 accounts (2 escalate, 1 deferred)
  globex: 2 people
    ! bob@acme
        + new access, 48h from apply
        + products: InsightIDR
        + InsightIDR/Detection and Response Dashboards: View Only
        + InsightIDR/InsightIDR Core: View Only
      old@acme
        - all access removed
        - products: InsightIDR
        - InsightIDR/Detection and Response Dashboards: View Only
        - InsightIDR/InsightIDR Core: View Only
  initech: 1 person (deferred)
    ! x@initech
        + new access
        + platform administrator

Changes:
  ~ update customer/globex (changed)
      labels.tier: null -> "gold"
      name:        "Globex" -> "Globex\\u001b[31m Evil"
  + create customer/initech (new)
      default_all_logs: true
      labels:           {}
      licensed:         ["InsightIDR"]
      name:             "Initech"
      poc:              null
      poc_licenses:     []
      products:         ["InsightIDR"]
      protect:          false
      region:           "us"
  + create assignment/globex/bob@acme (new)
      expiry:         "48h"
      logs:           {"restrict": [], "select": []}
      platform_admin: false
      products:       ["InsightIDR"]
      roles:          ["InsightIDR Viewer"]
  ~ update group/globex/SOC (changed)
      members: + "bob@acme"
  - destroy assignment/globex/old@acme (removed_from_manifest)
  > defer user/initech/x@initech (customer_pending)

Warnings:
  assignment/globex/bob@acme: access expires at 2026-11-25T09:00:00Z (in 2d)

Plan: 2 to add, 2 to change, 1 to destroy, 1 deferred.
"""


def sample_plan() -> Plan:
    want = desired(assignment__globex__bob_at_acme=assignment(expiry="48h"), group__globex__SOC=group("bob@acme"))
    state = applied(desired(assignment__globex__old_at_acme=assignment(), group__globex__SOC=group()))
    state.lineage = LINEAGE
    want["customer/globex"] = customer("globex", name="Globex\x1b[31m Evil\u202e", labels={"tier": "gold"})
    want["customer/initech"] = customer("initech")
    want["user/initech/x@initech"] = {"platform_admin": True}
    return make_plan(want, state, NOW, state_location="st", expiry_warning_hours=72)


def test_the_text_plan() -> None:
    assert render_plan(sample_plan(), color=False) == GOLDEN


def test_colour_is_added_around_sanitized_text() -> None:
    text = render_plan(sample_plan(), color=True)
    assert text.startswith("\x1b[1maccessplan plan\x1b[0m for partner acme\n")
    assert "  \x1b[33m~ update\x1b[0m customer/globex (changed)\n" in text
    assert "  \x1b[32m+ create\x1b[0m customer/initech (new)\n" in text
    assert "  \x1b[31m- destroy\x1b[0m assignment/globex/old@acme (removed_from_manifest)\n" in text
    assert "  \x1b[36m> defer\x1b[0m user/initech/x@initech (customer_pending)\n" in text
    assert "      members: \x1b[32m+ \"bob@acme\"\x1b[0m\n" in text
    assert "\x1b[31m Evil" not in text and "\u202e" not in text


def test_hostile_names_are_stripped_of_control_sequences() -> None:
    want = desired(**{"group__globex__SOC\x1b]0;pwned\x07 \u202eTier": group()})
    plan = make_plan(want, applied(desired()), NOW, escalations=False)
    assert "  + create group/globex/SOC Tier (new)\n" in render_plan(plan, color=False)


def test_an_empty_plan_says_so() -> None:
    state = applied(desired())
    state.lineage = LINEAGE
    text = render_plan(make_plan(desired(), state, NOW, state_location="st"), color=False)
    assert text == (
        "accessplan plan for partner acme\n"
        f"State: st (lineage {LINEAGE}, serial 2)\n"
        "Made at 2026-11-23T09:00:00Z\n"
        "\n"
        "No changes. The state matches the manifest.\n"
        "Plan: 0 to add, 0 to change, 0 to destroy, 0 deferred.\n"
    )


def test_the_json_plan_is_sorted_stable_and_marks_escalations() -> None:
    plan = sample_plan()
    text = render_plan_json(plan)
    doc = orjson.loads(text)
    assert text == orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode() + "\n"
    assert doc["escalations"] == [
        {"address": "assignment/globex/bob@acme", "customer": "globex", "deferred": False, "detail": "new access to customer globex", "kind": "new_access", "user": "bob@acme"},
        {"address": "user/initech/x@initech", "customer": "initech", "deferred": True, "detail": "gains platform administrator", "kind": "platform_admin", "user": "x@initech"},
    ]
    assert doc["summary"] == {"add": 2, "change": 2, "defer": 1, "destroy": 1}
    assert doc["warnings"] == [{"address": "assignment/globex/bob@acme", "kind": "expiring", "message": "access expires at 2026-11-25T09:00:00Z (in 2d)"}]
    assert (doc["lineage"], doc["serial"], doc["state"], doc["state_empty"]) == (LINEAGE, 2, "st", False)


@pytest.mark.parametrize(("args", "env", "colored"), [((), {}, False), (("--no-color",), {}, False), ((), {"NO_COLOR": "1"}, False)])
def test_no_colour_when_not_a_terminal_or_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               args: tuple[str, ...], env: dict[str, str], colored: bool) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from accessplan.cli import main

    m = write_manifest(tmp_path / "m", PARTNER, GLOBEX, BOB_24H)
    capsys.readouterr()
    assert main([*args, "--state", str(tmp_path / "st"), "plan", str(m)]) == 0
    assert ("\x1b[" in capsys.readouterr().out) is colored


def test_plan_format_json_through_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cli = Cli(capsys, tmp_path / "st")
    m = write_manifest(tmp_path / "m", PARTNER, GLOBEX, BOB_24H)
    result = cli("plan", str(m), "--format", "json", "--detailed-exitcode")
    assert result.code == 2
    doc = result.json()
    assert doc["format_version"] == 1 and doc["state_empty"] is True
    assert cli("plan", str(m), "--format", "json").out == result.out  # byte-identical
