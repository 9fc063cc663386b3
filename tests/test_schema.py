"""`accessplan schema` and the checked-in ``schemas/accessplan.schema.json``.

The checked-in file is what editors load through the yaml-language-server
modeline of every example; it must equal what the command prints, describe
every example file, and (like ``validate``) leave every top-level key optional.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.exceptions import best_match
from validate_support import FIXTURES, REPO, run

from accessplan import yamlsafe
from accessplan.schema import schema_text

SCHEMA_FILE = REPO / "schemas" / "accessplan.schema.json"
EXAMPLES = sorted((REPO / "examples" / "mssp").rglob("*.yaml"))  # the manifest (examples/ also holds CI files)
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(path: Path) -> Any:
    return yamlsafe.load(path.read_text(encoding="utf-8"))[0]


def test_checked_in_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "schemas/accessplan.schema.json is out of date: run 'accessplan schema --out schemas/accessplan.schema.json'"
    )


def test_schema_command_prints_it() -> None:
    result = run("schema")
    assert result.code == 0
    assert result.out == schema_text()
    head = json.loads(result.out)
    assert [head["$schema"], head["$id"], head["title"]] == [
        "https://json-schema.org/draft/2020-12/schema",
        "urn:accessplan:schema:manifest-file:1",
        "accessplan manifest file",
    ]


def test_schema_command_writes_a_file(tmp_path: Path) -> None:
    result = run("schema", "--out", "schema.json", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "", "wrote schema.json\n")
    assert (tmp_path / "schema.json").read_text(encoding="utf-8") == schema_text()


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_example_names_the_schema_and_matches_it(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path} does not start with the yaml-language-server modeline"
    assert (path.parent / match.group(1)).resolve() == SCHEMA_FILE
    errors = [e.message for e in validator.iter_errors(_data(path))]
    assert errors == []


def test_every_top_level_key_is_optional(validator: jsonschema.Draft202012Validator) -> None:
    assert validator.is_valid({})
    assert validator.is_valid({"customers": [{"id": "globex", "name": "Globex", "products": ["IDR"]}]})
    for part in sorted((FIXTURES / "rules" / "multi").rglob("*.yaml")):
        assert validator.is_valid(_data(part)), part


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        ({"partnr": {}}, [], "Additional properties are not allowed ('partnr' was unexpected)"),
        ({"customers": [{"id": "Globex", "name": "G"}]}, ["customers", 0, "id"], "'Globex' does not match '^[a-z0-9][a-z0-9-]{0,62}$'"),
        ({"customers": [{"id": "g", "name": "G", "products": ["InsightIRD"]}]}, ["customers", 0, "products", 0], "'InsightIRD' is not one of ['InsightAppSec', "),
        ({"customers": [{"id": "g", "name": "G", "region": "mars"}]}, ["customers", 0, "region"], "'mars' is not one of ['us', 'us2', "),
        (
            {"roles": [{"name": "R", "product": "IDR", "permissions": {"Collector": "Full"}}]},
            ["roles", 0, "permissions", "Collector"],
            "'Full' is not one of ['View Only', 'View and Change', 'Administer']",
        ),
        (
            {"grants": [{"users": ["a@b.example"], "customers": "*", "duration": "2w"}]},
            ["grants", 0, "duration"],
            "'2w' does not match '^(?:permanent|([1-9][0-9]{0,5})([hd]))$'",
        ),
        (
            {"grants": [{"users": ["a@b.example"], "customers": "*", "duration": "1d", "until": "2027-01-01T00:00:00Z"}]},
            ["grants", 0],
            "{'users': ['a@b.example'], 'customers': '*', 'duration': '1d', 'until': '2027-01-01T00:00:00Z'} "
            "should not be valid under {'required': ['duration', 'until']}",
        ),
        ({"grants": [{"users": ["not-an-email"], "customers": "*"}]}, ["grants", 0, "users", 0], "'not-an-email' does not match "),
        ({"policy": {"forbid_permanent_platform_admin": "yes"}}, ["policy", "forbid_permanent_platform_admin"], "'yes' is not of type 'boolean'"),
    ],
)
def test_schema_refuses_what_the_loader_refuses(
    document: dict[str, Any], path: list[str | int], message: str, validator: jsonschema.Draft202012Validator
) -> None:
    error = best_match(validator.iter_errors(document))
    assert error is not None
    assert list(error.absolute_path) == path
    assert error.message.startswith(message)
