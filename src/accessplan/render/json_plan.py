"""The plan (and the state) as JSON documents, for machines.

The plan document is the same one ``plan --out`` saves and ``apply FILE``
reads: ``format_version`` 1, keys sorted, described in the README. It is
stable: equal inputs give byte-identical documents.
"""

from __future__ import annotations

import orjson

from accessplan.plan import Plan
from accessplan.state import FORMAT_VERSION, State


def render_plan_json(plan: Plan) -> str:
    return plan.to_bytes().decode()


def render_state_json(state: State | None) -> str:
    """The state document; with no state yet, an empty one with null lineage and serial."""
    if state is not None:
        return state.to_bytes().decode()
    doc: dict[str, object] = {"format_version": FORMAT_VERSION, "lineage": None, "partner": None, "resources": {}, "serial": None}
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode() + "\n"
