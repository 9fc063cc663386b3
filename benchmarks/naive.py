#!/usr/bin/env python3
"""The naive design, for comparison: round-trip YAML and a whole-document DeepDiff.

    python benchmarks/naive.py MANIFEST_DIR STATE_JSON

What a first implementation would do to plan: load every manifest file with
ruamel.yaml's round-trip loader (it keeps line and column of every node), expand
the grants into resources, load the state, and diff the two whole documents
with DeepDiff. Each phase prints ``phase NAME SECONDS`` as soon as it ends, so
``run.py`` knows how far it got when it stops the run at its time cap.

The expansion reuses accessplan's own (``resolve`` and ``desired_resources``):
the naive design needs it too, and writing a slower one would flatter the
comparison. accessplan's own parse, needed to call it, is timed apart
(``untimed``) and left out of the naive total. Garbage collection is off, as
in accessplan: the comparison is between designs, not collector settings.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

gc.disable()


def phase(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"phase {name} {now - started:.3f}", flush=True)
    return now


def main(manifest: str, state: str) -> int:
    t = time.perf_counter()
    import orjson
    from deepdiff import DeepDiff
    from ruamel.yaml import YAML

    t = phase("import", t)
    yaml = YAML(typ="rt")
    documents = {}
    for path in sorted(Path(manifest).rglob("*.y*ml")):
        documents[path.relative_to(manifest).as_posix()] = yaml.load(path.read_text(encoding="utf-8"))
    t = phase("parse", t)

    from accessplan.desired import desired_resources
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve

    loaded = load_manifest(manifest)
    t = phase("untimed", t)
    desired = desired_resources(loaded, resolve(loaded))
    t = phase("expand", t)
    with open(state, "rb") as fh:
        current = {address: resource["spec"] for address, resource in orjson.loads(fh.read())["resources"].items()}
    t = phase("state", t)
    diff = DeepDiff(current, desired)
    t = phase("diff", t)
    print(f"differences {sum(len(v) for v in diff.values())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
