#!/usr/bin/env python3
"""The floor: the least any tool must do to plan, timed by ``run.py`` as a whole process.

    python benchmarks/floor.py MANIFEST_DIR STATE_JSON

Parse every manifest file with the fastest YAML parser available (yaml-rs, in
Rust), and load the state with orjson; nothing else. ``plan`` reads the same
inputs and must also expand, validate, diff and render, so ``plan / floor``
says how much of its time goes beyond reading. Garbage collection is off here
as in the CLI, so the floor is as low as it can be.
"""

from __future__ import annotations

import gc
import os
import sys
import time

gc.disable()

import orjson  # noqa: E402
import yaml_rs  # noqa: E402


def main(manifest: str, state: str) -> int:
    files = 0
    started = time.perf_counter()
    for root, dirs, names in os.walk(manifest):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                with open(os.path.join(root, name), "rb") as fh:
                    yaml_rs.loads(fh.read().decode("utf-8"), parse_datetime=False)
                files += 1
    parsed = time.perf_counter()
    with open(state, "rb") as fh:
        orjson.loads(fh.read())
    loaded = time.perf_counter()
    print(f"parsed {files} files and the state")
    print(f"yaml_seconds={parsed - started:.4f} state_seconds={loaded - parsed:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
