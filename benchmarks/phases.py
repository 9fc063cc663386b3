#!/usr/bin/env python3
"""Where ``accessplan plan`` spends its time: one plan, phase by phase, in process.

    python benchmarks/phases.py MANIFEST_DIR STATE_DIR [--now TIME]

Runs the steps of ``plan`` (as :func:`accessplan.cli.plan_cmd.prepare` and
``plan_command`` call them, in the same order, garbage collection off as in the
CLI) and prints one JSON object: the seconds of each phase, and the resident
memory after it. ``run.py`` runs this in fresh processes and reports the
medians beside the whole-process time of ``plan``: the difference is the
interpreter's start-up, the imports and writing the output.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

gc.disable()

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

#: (key, label, what the phase does) in the order plan runs them.
PHASES = (
    ("load", "read and check the manifest files", "yaml-rs parse, pydantic models, per-file checks"),
    ("expand", "expand the grants", "grants x customers -> assignments, then every resource as a spec"),
    ("model", "index effective access", "the access engine over the desired resources"),
    ("validate", "cross-file rules", "references, policies, privilege conflicts, distribution lists"),
    ("state", "read the state", "orjson parse of state.json and its shape check"),
    ("join", "plan: join and impact", "keyed join by address, lifecycle, access before/after for what changed"),
    ("finish", "lifecycle causes, policy re-check", ""),
    ("render", "render the text plan", "jinja2 template over the sorted changes"),
)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20
    except OSError:
        return 0.0


def run(manifest: str, state_dir: str, now: datetime) -> dict[str, dict[str, float]]:
    from accessplan.access import AccessModel
    from accessplan.desired import desired_resources
    from accessplan.expiry import stale_grant_diagnostics
    from accessplan.loader import load_manifest
    from accessplan.mssp import finish_plan
    from accessplan.model import duration_hours
    from accessplan.plan import make_plan
    from accessplan.render.text import render_plan
    from accessplan.resolve import resolve
    from accessplan.state import open_backend
    from accessplan.validate import validate_manifest

    out: dict[str, dict[str, float]] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        t = time.perf_counter()
        out[name] = {"seconds": t - clock[0], "rss_mb": _rss_mb()}
        clock[0] = t

    m = load_manifest(manifest)
    lap("load")
    resolved = resolve(m, now)
    desired = desired_resources(m, resolved, now)
    lap("expand")
    model = AccessModel(desired)
    lap("model")
    diagnostics = validate_manifest(m, resolved, now, resources=desired, access_model=model)
    if any(d.severity == "error" for d in diagnostics):
        raise SystemExit("phases.py: the manifest is invalid")
    lap("validate")
    backend = open_backend(state_dir)
    state = backend.read(partner=m.partner.id)
    lap("state")
    list(stale_grant_diagnostics(m, resolved, state, now))
    hours = duration_hours(m.policy.expiry_warning) if m.policy is not None else None
    plan = make_plan(desired, state, now, state_location=backend.location, expiry_warning_hours=hours, desired_model=model)
    lap("join")
    plan = finish_plan(plan, state, desired, m.policy, now)
    lap("finish")
    render_plan(plan, color=False)
    lap("render")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("state")
    ap.add_argument("--now", default="2026-11-23T09:00:00Z")
    args = ap.parse_args(argv)
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")).astimezone(timezone.utc)
    print(json.dumps(run(args.manifest, args.state, now)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
