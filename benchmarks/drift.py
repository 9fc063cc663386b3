"""A state that matches a generated organisation, and the 1 % of drift a plan finds in it.

A benchmark of ``plan`` and ``apply`` needs what users have: a state written by
earlier applies, and a manifest that moved on a little since. So
:func:`make_state` writes the organisation :func:`generate.build` makes (the
*base*) into a temporary directory, applies it with the real pipeline
(``accessplan apply``, in this process), approves every customer as its
administrator would, applies again, and then writes a *drifted* copy of the
manifest to the output directory: about 1 % of the resources differ from the
state, in the ways an MSSP's week changes them (:func:`drift`).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from generate import DOMAIN, FIRST_NAMES, GEO_TIMEZONES, LAST_NAMES, build, generate

#: The clock of every apply that builds the state, and of the benchmarks that use it.
NOW = "2026-11-23T09:00:00Z"
DRIFT_SHARE = 0.01
ANALYST_ROLES = "Log Search View and Change"


def _pod_grants(org: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in org["grants"] if g["comment"].startswith("SOC pod")]


def _reach(org: dict[str, Any]) -> dict[int, set[str]]:
    """Customers each pod analyst reaches through explicit customer lists."""
    reach: dict[int, set[str]] = {}
    for g in org["grants"]:
        if isinstance(g["customers"], list):
            for u in g["users"]:
                reach.setdefault(u, set()).update(g["customers"])
    return reach


def drift(org: dict[str, Any], size: str, seed: int = 1) -> dict[str, int]:
    """Change about :data:`DRIFT_SHARE` of the resources of ``org`` in place; return what was done.

    Customers renamed; logs added to a log set; a member leaving a group; a SOC
    pod losing a role on every assignment (updates); analysts moved off
    customer work (deletes); new analysts joining pods (creates). The
    account changes touch 1 % of customers and groups; the assignment changes,
    split about equally, make up the rest of 1 % of all resources.
    """
    rng = random.Random(f"accessplan-drift-{size}-{seed}")
    customers, users = org["customers"], org["users"]
    done = {"renamed": 0, "logs_added": 0, "members_dropped": 0, "pods_changed": 0, "analysts_moved": 0, "analysts_added": 0}
    n = max(1, math.ceil(DRIFT_SHARE * len(customers)))
    for c in rng.sample(customers, n):
        c["name"] = f"{c['name']} 2027"
        done["renamed"] += 1
    logging = [c for c in customers if c["log_sets"]]
    for c in rng.sample(logging, min(n, len(logging))):
        name, logs = c["log_sets"][0]
        c["log_sets"][0] = (name, [*logs, f"{logs[0].split('-')[0]}-{len(logs) + 1:02d}"])
        done["logs_added"] += 1
    groups = [g for c in customers for g in c["groups"] if len(g["members"]) >= 2]
    for g in rng.sample(groups, min(max(1, math.ceil(DRIFT_SHARE * len(groups))), len(groups))):
        g["members"] = g["members"][:-1]
        done["members_dropped"] += 1

    # What is left of 1 % of all resources, split between updates, deletes and creates.
    resources = 1 + len(customers) + len(users) + org["assignments"] + sum(
        len(c["groups"]) + len(c["log_sets"]) + len(c["logs"]) + sum(len(logs) for _, logs in c["log_sets"]) for c in customers)
    touched = done["renamed"] + 2 * done["logs_added"] + done["members_dropped"]
    budget = max(1.0, DRIFT_SHARE * resources - touched) / 3
    pods = _pod_grants(org)
    reach = _reach(org)
    # Updates: some customers of a pod's InsightIDR grant move to a new grant
    # without the log search role (every assignment there changes).
    idr = [g for g in pods if g["comment"].endswith("InsightIDR customers") and ANALYST_ROLES in g["roles"] and len(g["customers"]) > 1]
    changed = 0
    for g in rng.sample(idr, len(idr)):
        if changed >= budget:
            break
        k = min(len(g["customers"]) - 1, max(1, math.ceil((budget - changed) / len(g["users"]))))
        moved, g["customers"] = g["customers"][-k:], g["customers"][:-k]
        org["grants"].append({**g, "comment": g["comment"] + ", without log search", "customers": moved,
                              "roles": [r for r in g["roles"] if r != ANALYST_ROLES]})
        changed += len(g["users"]) * k
        done["pods_changed"] += 1
    # Deletes: analysts moved off customer work keep their partner account only.
    movable = sorted({u for g in pods for u in g["users"]})
    rng.shuffle(movable)
    removed = 0
    for u in movable:
        if removed and abs(removed + len(reach.get(u, ())) - budget) >= abs(removed - budget):
            break  # one more would land further from the budget
        email = users[u]["email"]
        for g in pods:
            if u in g["users"] and len(g["users"]) > 1:
                g["users"] = [x for x in g["users"] if x != u]
        for c in customers:
            for group in c["groups"]:
                if email in group["members"]:
                    group["members"] = [m for m in group["members"] if m != email]
            c["groups"] = [group for group in c["groups"] if group["members"]]
        removed += len(reach.get(u, ()))
        done["analysts_moved"] += 1
    # Creates: new analysts join a pod (every grant its first member is in).
    added = 0
    while added < budget and pods:
        lead = rng.choice(pods)["users"][0]
        team = [g for g in pods if lead in g["users"]]
        gain = len(set().union(*(g["customers"] for g in team)))
        if added and abs(added + gain - budget) >= abs(added - budget):
            break  # one more would land further from the budget
        k = done["analysts_added"] + 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        users.append({"email": f"new.analyst{k:03d}@{DOMAIN}", "first_name": first, "last_name": last,
                      "timezone": rng.choice(GEO_TIMEZONES["emea"]), "platform_admin": False,
                      "distribution_list": False, "role": "new"})
        for g in team:
            g["users"] = [*g["users"], len(users) - 1]
        added += gain
        done["analysts_added"] += 1
    return done


def _quiet_cli(args: list[str]) -> None:
    """Run ``accessplan ARGS`` in this process, output discarded; raise if it fails."""
    from accessplan.cli import main

    err = io.StringIO()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(err):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"accessplan {' '.join(args)} exited {code}: {err.getvalue()[-2000:]}")


def _approve_all(state_dir: Path) -> int:
    """Approve every pending customer, as its administrator would (state edit under the lock)."""
    from accessplan.state import open_backend

    backend = open_backend(str(state_dir))
    with backend.lock(operation="customer approve", actor="bench@customer.example", timeout=0):
        state = backend.read()
        assert state is not None
        before = (state.lineage, state.serial)
        pending = sorted(a for a, r in state.resources.items() if a.startswith("customer/") and r["status"].get("relationship") == "pending")
        for addr in pending:
            state.resources[addr]["status"]["relationship"] = "approved"
        state.serial += 1
        backend.commit(state, expected=before, audit={"operation": "customer approve", "customers": [a.split("/", 1)[1] for a in pending]})
    return len(pending)


def count_drift(manifest_dir: Path, state_dir: Path) -> dict[str, int]:
    """Resources the manifest would create, update and delete against the state (specs compared)."""
    import orjson

    from accessplan.desired import desired_resources
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve

    manifest = load_manifest(manifest_dir)
    desired = desired_resources(manifest, resolve(manifest))
    current = {a: r["spec"] for a, r in orjson.loads((state_dir / "state.json").read_bytes())["resources"].items()}
    create = sum(1 for a in desired if a not in current)
    delete = sum(1 for a in current if a not in desired)
    update = sum(1 for a, spec in desired.items() if a in current and current[a] != spec)
    return {"resources": len(current), "create": create, "update": update, "delete": delete}


def make_state(size: str, out: Path, state_dir: Path, seed: int = 1) -> dict[str, Any]:
    """Write the drifted manifest to ``out`` and the state of the base manifest to ``state_dir``."""
    import gc

    t0 = time.perf_counter()
    state_dir = Path(state_dir)
    if (state_dir / "state.json").exists():
        raise FileExistsError(f"{state_dir} already holds a state; choose an empty --state directory")
    org = build(size, seed)
    gc.disable()  # as the CLI does: large acyclic data
    try:
        with tempfile.TemporaryDirectory(prefix="accessplan-base-") as base:
            generate(size, Path(base), seed=seed, org=org)
            common = ["--now", NOW, "--state", str(state_dir), "apply", base, "--auto-approve", "--allow-escalation"]
            _quiet_cli(common)
            approved = _approve_all(state_dir)
            _quiet_cli(common)
        changes = drift(org, size, seed)
        counts = generate(size, out, seed=seed, org=org)
        found = count_drift(Path(out), state_dir)
    finally:
        gc.enable()
    share = (found["create"] + found["update"] + found["delete"]) / max(1, found["resources"])
    return {
        **counts,
        "approved": approved,
        **{f"drift_{k}": v for k, v in changes.items()},
        "state_resources": found["resources"],
        "to_create": found["create"],
        "to_update": found["update"],
        "to_delete": found["delete"],
        "drift_percent": round(100 * share, 2),
        "state_bytes": (state_dir / "state.json").stat().st_size,
        "seconds": round(time.perf_counter() - t0, 3),
    }
