"""``apply_plan`` as a library: the guards, the statuses it stamps, all or nothing."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_plan import NOW, PARTNER, applied, assignment, customer, desired

from accessplan import jsonstate
from accessplan.apply import ApplyOptions, apply_plan, check_plan, next_state
from accessplan.errors import AccessplanError, PlanRefused, StateError
from accessplan.plan import make_plan
from accessplan.planfile import read_plan, write_plan
from accessplan.state import State, open_backend

LATER = NOW + timedelta(hours=1)
EVERYTHING = ApplyOptions(force=True, allow_escalation=True, allow_customer_removal=True)


def commit_state(location: Path, state: State) -> None:
    backend = open_backend(str(location))
    with backend.lock(operation="test", actor=None, timeout=0):
        backend.commit(state, expected=None, audit={"operation": "test"})


def apply(plan: Any, location: Path, **kw: Any) -> Any:
    backend = open_backend(str(location))
    with backend.lock(operation="apply", actor=kw.get("actor"), timeout=0):
        return apply_plan(plan, backend, now=kw.get("now", NOW), actor=kw.get("actor"), change_ref=kw.get("change_ref"),
                          options=kw.get("options", EVERYTHING), progress=kw.get("progress"))


def test_statuses_stamped_at_apply(tmp_path: Path) -> None:
    want = desired(
        assignment__globex__perm_at_acme=assignment(),
        assignment__globex__rel_at_acme=assignment(expiry="36h"),
        assignment__globex__abs_at_acme=assignment(expiry="2027-03-31T18:00:00Z"),
    )
    state = applied(want)
    res = state.resources
    assert res["customer/globex"]["status"] == {"protect": False, "relationship": "approved"}
    assert res["assignment/globex/perm@acme"]["status"]["expires_at"] is None
    assert res["assignment/globex/rel@acme"]["status"]["expires_at"] == "2026-11-24T21:00:00Z"
    assert res["assignment/globex/abs@acme"]["status"]["expires_at"] == "2027-03-31T18:00:00Z"
    # a roles change keeps expires_at; a duration change stamps it afresh; protect follows the spec
    want2 = dict(want)
    want2["assignment/globex/rel@acme"] = assignment(expiry="36h", roles=["InsightIDR Analyst"])
    want2["assignment/globex/perm@acme"] = assignment(expiry="12h")
    want2["customer/globex"] = customer("globex", protect=True)
    after = next_state(make_plan(want2, state, LATER), state, LATER, "bob@acme", "r2")
    assert after.resources["assignment/globex/rel@acme"]["status"] == {
        "change_ref": "r2", "expires_at": "2026-11-24T21:00:00Z", "granted_at": "2026-11-23T10:00:00Z", "granted_by": "bob@acme",
    }
    assert after.resources["assignment/globex/perm@acme"]["status"]["expires_at"] == "2026-11-23T22:00:00Z"
    assert after.resources["customer/globex"]["status"] == {"protect": True, "relationship": "approved"}
    assert (after.lineage, after.serial) == (state.lineage, state.serial + 1)
    assert state.resources["customer/globex"]["status"]["protect"] is False  # the input is not modified


def test_a_failed_commit_leaves_the_state_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = applied(desired())
    commit_state(tmp_path, state)
    before = (tmp_path / "state.json").read_bytes()
    plan = make_plan(desired(assignment__globex__bob_at_acme=assignment()), state, NOW)

    def full(src: str, dst: str) -> None:
        if dst.endswith("state.json"):
            raise OSError(28, "No space left on device")
        os.replace(src, dst)

    monkeypatch.setattr(jsonstate, "_replace", full)
    with pytest.raises(StateError) as exc:
        apply(plan, tmp_path)
    assert exc.value.message == f"could not write state: No space left on device (replacing {tmp_path}/state.json)"
    assert (tmp_path / "state.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or p.name.endswith(".journal")] == []
    assert len(open_backend(str(tmp_path)).audit_log()) == 1  # only the commit that happened


def test_apply_reports_progress_and_writes_one_audit_record(tmp_path: Path) -> None:
    want = dict(PARTNER)
    want["customer/globex"] = customer("globex", poc={"expires": "2027-01-01", "first_user": "a@acme", "products": ["InsightIDR"]})
    for i in range(2500):
        want[f"assignment/globex/u{i:04d}@acme"] = assignment()
    # the actor: a Partner Platform Administrator the plan creates (the first apply's authority)
    want["user/acme/a@acme"] = {"distribution_list": False, "first_name": "A", "last_name": "A", "logs": {"restrict": [], "select": []},
                                "platform_admin": True, "products": [], "roles": [], "timezone": "UTC"}
    seen: list[int] = []
    result = apply(make_plan(want, None, NOW, escalations=False), tmp_path, progress=seen.append, actor="a@acme")
    assert seen == [1000, 2000]
    assert (result.written, result.serial_before, result.serial_after, len(result.applied)) == (True, None, 1, 2503)
    records = open_backend(str(tmp_path)).audit_log()
    assert len(records) == 1
    assert (records[0]["serial_before"], records[0]["serial_after"], len(records[0]["changes"])) == (None, 1, 2503)


@pytest.mark.parametrize(
    ("plan_key", "state_key", "message"),
    [
        ((None, None), ("x", 1), "the plan was made against an empty state, but st now holds serial 1"),
        (("00000000-0000-4000-8000-000000000000", 1), None, "the plan was made against state serial 1, but there is no state at st"),
        (("00000000-0000-4000-8000-000000000000", 1), ("11111111-1111-4111-8111-111111111111", 1),
         "the plan was made against another state (lineage 00000000-0000-4000-8000-000000000000; st has lineage 11111111-1111-4111-8111-111111111111)"),
    ],
    ids=["state-appeared", "state-vanished", "other-lineage"],
)
def test_a_plan_for_another_state_is_refused(plan_key: tuple[Any, Any], state_key: tuple[str, int] | None, message: str) -> None:
    from dataclasses import replace

    plan = replace(make_plan(desired(), None, NOW), lineage=plan_key[0], serial=plan_key[1])
    current = None if state_key is None else State(state_key[0], state_key[1], "acme", {})
    with pytest.raises(PlanRefused) as exc:
        check_plan(plan, current, NOW, EVERYTHING, "st")
    assert exc.value.render() == f"error: {message} (hint: the state changed since the plan was made: make a new plan)"


def test_saved_plans_round_trip_and_bad_files_are_refused(tmp_path: Path) -> None:
    plan = make_plan(desired(assignment__globex__bob_at_acme=assignment()), None, NOW, state_location="st")
    path = tmp_path / "p.plan"
    write_plan(plan, path)
    assert read_plan(path) == plan
    cases = {
        b"not json": f"error: {tmp_path}/bad: not a saved plan (not JSON) (hint: make a new plan with 'accessplan plan PATH --out FILE')",
        b"[1]": f"error: {tmp_path}/bad: not a saved plan (hint: make a new plan with 'accessplan plan PATH --out FILE')",
    }
    doc = orjson.loads(path.read_bytes())
    doc["format_version"] = 2
    cases[orjson.dumps(doc)] = f"error: {tmp_path}/bad: saved plan has format_version 2; this accessplan reads 1 (hint: make a new plan with 'accessplan plan PATH --out FILE')"
    for data, message in cases.items():
        (tmp_path / "bad").write_bytes(data)
        with pytest.raises(AccessplanError) as exc:
            read_plan(tmp_path / "bad")
        assert exc.value.render() == message


def test_a_saved_plan_for_another_partner_is_refused(tmp_path: Path) -> None:
    other = State("00000000-0000-4000-8000-000000000000", 1, "other", {})
    commit_state(tmp_path, other)
    plan = make_plan(desired(), None, datetime(2026, 11, 23, tzinfo=timezone.utc))
    with pytest.raises(StateError) as exc:
        apply(plan, tmp_path)
    assert exc.value.message == "state belongs to partner 'other', the manifest declares 'acme'"
