"""Hypothesis strategies for fuzzed manifests: mutated valid ones, hostile YAML, random bytes.

Grammar-aware first: most cases start from a real manifest (the example MSSP
and the validate fixtures), parse it, and change its *data* the way people and
tools get manifests wrong — a key dropped or duplicated, a value of the wrong
type, a reference swapped for another name of the manifest or for a near
miss, an unknown key, a list where a mapping belongs — then write it back as
YAML in a random style, and perhaps damage the *text* as well (lines dropped,
repeated or re-indented; tags, anchors, directives, tabs, NULs, byte-order
marks, bidirectional overrides inserted). *Benign* changes keep most manifests
valid (hostile display names, flipped flags, dropped optional keys), so the
plan, apply, test and explain paths see fuzzed data too. The rest are the attacks of SPEC
section 2 with random sizes, token soup, random Unicode text and random bytes.

A case is a mapping of relative file names to bytes: one file, or a manifest
directory of several.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    kind: str
    files: tuple[tuple[str, bytes], ...]  # (relative path, content)

    @property
    def single(self) -> bool:
        return len(self.files) == 1 and "/" not in self.files[0][0]


@dataclass(frozen=True)
class Seed:
    name: str
    files: tuple[tuple[str, str], ...]  # (relative path, text)
    data: tuple[tuple[str, bytes], ...] = ()  # (relative path, its parsed data as JSON): parsed once

    def parsed(self, name: str) -> Any:
        """A fresh copy of the data of file ``name`` (cases change it in place)."""
        return orjson.loads(dict(self.data)[name])


def _seed(name: str, files: tuple[tuple[str, str], ...]) -> Seed:
    from accessplan import yamlsafe

    data = tuple((path, orjson.dumps(yamlsafe.load(text)[0])) for path, text in files)
    return Seed(name, files, data)


def load_seeds() -> list[Seed]:
    """Real manifests to mutate: the example MSSP (a directory) and every validate fixture."""
    seeds: list[Seed] = []
    example = ROOT / "examples" / "mssp"
    multi = ROOT / "tests" / "fixtures" / "validate" / "rules" / "multi"
    for root in (example, multi):
        if root.is_dir():
            files = tuple((p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.yaml")))
            seeds.append(_seed(root.name, files))
    for p in sorted((ROOT / "tests" / "fixtures" / "validate" / "rules").glob("*.yaml")):
        seeds.append(_seed(p.name, (("manifest.yaml", p.read_text(encoding="utf-8")),)))
    if not seeds:
        raise RuntimeError(f"no seed manifests under {ROOT}")
    return seeds


def _vocabulary() -> list[str]:
    """Names the manifest format knows: keys, products, roles, features, levels, regions."""
    import accessplan.catalog

    catalog = json.loads((Path(accessplan.catalog.__file__).parent / "catalog.json").read_text(encoding="utf-8"))
    words = ["version", "partner", "roles", "customers", "grants", "policy", "tests", "id", "name", "region", "products",
             "users", "groups", "data_access", "default_all_logs", "log_sets", "logs", "labels", "poc", "poc_licenses",
             "protect", "email", "first_name", "last_name", "timezone", "platform_admin", "distribution_list", "members",
             "description", "select", "restrict", "product", "extends", "permissions", "first_user", "expires",
             "product_admin", "except_customers", "duration", "until", "min_platform_admins_per_customer",
             "forbid_permanent_platform_admin", "max_admin_duration", "max_admin_customers_per_user", "expiry_warning",
             "user", "customer", "expect", "features"]
    words += list(catalog["levels"]) + list(catalog["regions"]) + list(catalog["roles"])
    for name, product in catalog["products"].items():
        words += [name, product["code"], *product["features"]]
    return words


VOCABULARY = _vocabulary()
TRICKY: list[Any] = [
    "", " ", "yes", "no", "on", "off", "true", "True", "null", "~", "*", "-", "0", "00", "0x1F", "0o17", "1_000", ".inf",
    "2026-02-30", "2027-13-01", "2027-03-31T25:00:00Z", "2027-03-31T18:00:00", "0h", "-5d", "1.5h", "48H", "h", "2d3h",
    "999999999999999999d", "permanent", "Permanent", "a@b", "ALICE@ACME.EXAMPLE", "alice@acme.example ", "x" * 300,
    "é", "\u202egro.elpmaxe\u202c", "a\nb", "a\tb", "\x1b[31mred", "\u2028", "../../etc/passwd", "Europe/Nowhere", "UTC",
    "-leading-dash", "UPPER", "a" * 64, 0, -1, 1, 2, 10**30, -(10**30), 1.5, float("inf"), True, False, None, [], {},
    [None], {"": None}, ["*"], {"labels": {}}, {"labels": {"tier": "gold"}},
]
SNIPPETS = [
    "&a ", "*a", "*b ", "!!python/object/apply:os.system ['id'] ", "!Foo ", "!!binary aGk= ", "!!set ", "!!timestamp ",
    "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n---\n", "---\n", "...\n", "<<: *a\n", "? [a]\n: b\n", "? a\n", "|\n  text\n",
    ">-\n  folded\n", "{", "}", "[", "]", '"', "'", "# comment", "\\", "\t", "\x00", "\u202e", "\u2028", "\ufeff", "- ",
    ": ", ",", "~", "yes", "2026-02-30", "0x1F", "1_000", "&x [*x]", "&x {k: *x}", "\r", "\r\n", "\x85", "\x7f", "\ud7ff",
    "@", "`", "%", "!", "&", "*", "|", ">", "?", "=",
]
TOKENS = ["\n", "  ", "- ", ": ", "a", "b", "version", "partner", "customers", "grants", "1", "[", "]", "{", "}", ",", "'", '"',
          "&a", "*a", "!t", "#", "---", "...", "?", "|", ">", "\t", "yes", "~", "users", "id", "email", "x@y.z"]


@cache
def _below(n: int) -> st.SearchStrategy[int]:
    """Integers 0 .. n-1; cached, as Hypothesis checks every new strategy it is given."""
    return st.integers(0, max(0, n - 1))


def _pick(draw: st.DrawFn, items: list[Any] | tuple[Any, ...]) -> Any:
    return items[draw(_below(len(items)))]


BOOLS = st.booleans()
VOCAB = st.sampled_from(VOCABULARY)
TRICKIES = st.sampled_from(TRICKY).map(copy.deepcopy)  # a fresh copy: cases change their data in place
SHORT_TEXT = st.text(max_size=40)
KEY_TEXT = st.text(max_size=12)
BITS = st.text(max_size=8)
SCALARS = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


ENCODINGS = ("utf-8",) * 12 + ("utf-8-sig", "utf-16", "latin-1")


def _nodes(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``data``, parents first."""
    out: list[tuple[Any, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                stack.append(value)
    return out


def _scalars(data: Any) -> list[Any]:
    found: list[Any] = []
    for container, key in _nodes(data):
        value = container[key]
        if not isinstance(value, (dict, list)):
            found.append(value)
        if isinstance(container, dict):
            found.append(key)
    return found


@st.composite
def _value(draw: st.DrawFn, names: list[Any]) -> Any:
    choice = draw(_below(6))
    if choice == 0 and names:
        return copy.deepcopy(_pick(draw, names))
    if choice == 1 and names:  # a near miss of a real name: "did you mean"
        name = str(_pick(draw, names))
        if name:
            i = draw(_below(len(name)))
            return name[:i] + name[i + 1 :] if draw(BOOLS) else name[:i] + name[i].swapcase() + name[i + 1 :]
    if choice == 2:
        return draw(VOCAB)
    if choice == 3:
        return draw(SHORT_TEXT)
    if choice == 4:
        return draw(SCALARS)
    return draw(TRICKIES)


@st.composite
def _mutate_data(draw: st.DrawFn, data: Any) -> Any:
    """One change to the parsed manifest, chosen the way manifests go wrong."""
    nodes = _nodes(data)
    names = _scalars(data)
    if not nodes:
        return draw(_value(names))
    container, key = _pick(draw, nodes)
    op = draw(_below(10))
    if op == 0:  # drop a key or an item
        del container[key]
    elif op == 1 and isinstance(container, list):  # repeat an item (a duplicate id, user, group...)
        container.insert(draw(_below(len(container) + 1)), copy.deepcopy(container[key]))
    elif op == 2 and isinstance(container, dict):  # an unknown or misplaced key
        container[draw(VOCAB) if draw(BOOLS) else draw(KEY_TEXT)] = draw(_value(names))
    elif op == 3:  # wrap in a list, or a mapping
        container[key] = [container[key]] if draw(BOOLS) else {draw(VOCAB): container[key]}
    elif op == 4 and isinstance(container[key], list) and container[key]:  # unwrap
        container[key] = container[key][0]
    elif op == 5 and isinstance(container, list) and len(container) > 1:  # reorder
        j = draw(_below(len(container)))
        container[key], container[j] = container[j], container[key]
    elif op == 6:  # nest deeper than any manifest needs
        depth = 1 + draw(_below(80))
        value = container[key]
        for _ in range(depth):
            value = [value]
        container[key] = value
    elif op == 7 and isinstance(container, dict):  # rename a key to a near one
        value = container.pop(key)
        new = draw(_value([key]))
        container[new if isinstance(new, (str, int, float, bool, type(None))) else str(new)] = value
    else:  # another value: a name from elsewhere, a near miss, a keyword, a wrong type
        container[key] = draw(_value(names))
    return data


HOSTILE_NAMES = [
    "\u202eevil\u202c", "\x1b[31mred\x1b[0m", "\x1b]8;;http://x\x07link", "tab\there", "new\nline", "\u2066iso\u2069",
    "zero\u200bwidth", "\ufeffbom", "ﬁnance", "İstanbul", "日本語", "emoji 🛡️", "quote \" and ' both", "back\\slash",
    "<script>alert(1)</script>", "| pipe | table |", "`code`", "**bold**", "[link](http://x)", "&amp;", "%0A", "::error::x",
]
OPTIONAL = {"description", "labels", "logs", "roles", "products", "duration", "until", "platform_admin", "protect",
            "data_access", "except_customers", "log_sets", "groups", "poc_licenses", "policy", "tests", "timezone",
            "distribution_list", "restrict", "select", "extends", "users"}
DURATIONS = ["24h", "48h", "2d", "30d", "720h", "permanent", "1h"]


@st.composite
def _benign(draw: st.DrawFn, data: Any) -> Any:
    """A change that usually keeps the manifest valid: so the plan, apply, test and explain paths run too."""
    nodes = _nodes(data)
    if not nodes:
        return data
    container, key = _pick(draw, nodes)
    value = container[key]
    op = draw(_below(5))
    if op == 0 and key in ("name", "description", "first_name", "last_name"):
        container[key] = _pick(draw, HOSTILE_NAMES)
    elif op == 1 and isinstance(value, bool):
        container[key] = not value
    elif op == 2 and isinstance(container, dict) and key in OPTIONAL:
        del container[key]
    elif op == 3 and isinstance(value, list) and len(value) > 1:
        value.reverse()
    elif key == "duration":
        container[key] = _pick(draw, DURATIONS)
    elif isinstance(container, dict) and "name" in container and isinstance(container["name"], str):
        container["name"] = _pick(draw, HOSTILE_NAMES)
    return data


def _dump(draw: st.DrawFn, data: Any) -> str:
    try:
        return str(yaml.dump(
            data,
            Dumper=yaml.CSafeDumper,
            default_flow_style=_pick(draw, (False, True, None)),
            sort_keys=draw(BOOLS),
            allow_unicode=draw(BOOLS),
            width=_pick(draw, (40, 80, 10**6)),
            indent=_pick(draw, (2, 3, 4)),
        ))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return json.dumps(data, default=str)


@st.composite
def _mutate_text(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    op = draw(_below(10))
    i = draw(_below(len(lines)))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[i])  # duplicate keys, repeated items
    elif op == 2 and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif op == 3:
        shift = draw(_below(7)) - 3
        lines[i] = lines[i][-shift:] if shift < 0 else " " * shift + lines[i]
    elif op in (4, 5):
        snippet = _pick(draw, SNIPPETS)
        at = draw(_below(len(lines[i]) + 1))
        lines[i] = lines[i][:at] + snippet + lines[i][at:]
    elif op == 6:
        return text[: draw(_below(len(text) + 1))]
    elif op == 7:
        at = draw(_below(len(text) + 1))
        return text[:at] + draw(BITS) + text[at + 1 :]
    elif op == 8:
        return text.replace("\n", _pick(draw, ("\r\n", "\r", "\n\n", "\x85")))
    else:
        return str(_pick(draw, ("\ufeff", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n", "---\n", "# c\n", "\n"))) + text
    return "\n".join(lines)


@st.composite
def _encode(draw: st.DrawFn, text: str) -> bytes:
    encoding = _pick(draw, ENCODINGS)
    return text.encode(encoding, errors="replace")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Seed], data_level: bool = True, benign: bool = False) -> Case:
    seed = _pick(draw, seeds)
    files = dict(seed.files)
    target = _pick(draw, sorted(files))
    text = files[target]
    if data_level:
        data = seed.parsed(target)
        for _ in range(1 + draw(_below(4))):
            data = draw(_benign(data) if benign else _mutate_data(data))
        text = _dump(draw, data)
    for _ in range(0 if benign else draw(_below(4)) if data_level else 1 + draw(_below(3))):
        text = draw(_mutate_text(text))
    out = {name: body.encode() for name, body in files.items()}
    out[target] = draw(_encode(text))
    if len(files) > 1 and draw(_below(10)) == 0:  # a file more: partner twice, a hidden file, a nested one
        extra = _pick(draw, ("again.yaml", ".hidden.yaml", "deep/er/more.yml", "notes.txt"))
        out[extra] = out[_pick(draw, sorted(files))]
    kind = "benign data" if benign else "mutated data" if data_level else "mutated text"
    if len(out) == 1:
        return Case(kind, (("manifest.yaml", next(iter(out.values()))),))
    return Case(kind, tuple(sorted(out.items())))


@st.composite
def attack(draw: st.DrawFn) -> Case:
    """The hostile inputs of SPEC section 2, with random sizes."""
    kind = draw(_below(7))
    if kind == 0:  # billion laughs
        levels, width = 2 + draw(_below(11)), 2 + draw(_below(11))
        lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
        text = "\n".join(lines) + "\n"
    elif kind == 1:  # deep nesting, flow or block
        depth = 50 + draw(_below(20_000))
        if draw(BOOLS):
            text = "[" * depth + "]" * depth + "\n"
        else:
            depth = min(depth, 800)
            text = "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "x\n"
    elif kind == 2:  # one anchor reached through many aliases
        size, refs = 1 + draw(_below(2000)), 1 + draw(_below(2000))
        text = f"a: &a [{', '.join(['x'] * size)}]\nb: [{', '.join(['*a'] * refs)}]\n"
    elif kind == 3:  # a long scalar, in a field that exists
        text = f"version: 1\npartner: {{id: a, name: \"{'x' * draw(_below(300_000))}\", region: us}}\n"
    elif kind == 4:  # many keys
        text = "version: 1\n" + "".join(f"k{i}: {i}\n" for i in range(1 + draw(_below(5_000))))
    elif kind == 5:  # a number with many digits (int() refuses over 4,300 digits)
        digits = 1 + draw(_below(20_000))
        text = f"version: {_pick(draw, ('', '-', '0x', '0o', '1.'))}{'7' * digits}\n"
    else:  # tags and directives
        text = _pick(draw, [
            "a: !!python/object/apply:os.system ['echo owned']\n", "!Foo {a: 1}\n", "%YAML 1.1\n---\na: yes\n",
            "a: !!binary aGk=\n", "--- !!map\na: 1\n", "a: !<tag:yaml.org,2002:str> x\n", "a: !!float 1\n",
        ])
    return Case("attack", (("manifest.yaml", text.encode()),))


RANDOM_BYTES = st.binary(max_size=4096)
RANDOM_TEXT = st.text(max_size=2000)
SOUP = st.lists(st.sampled_from(TOKENS), max_size=300)


@st.composite
def noise(draw: st.DrawFn) -> Case:
    kind = draw(_below(3))
    if kind == 0:
        return Case("random bytes", (("manifest.yaml", draw(RANDOM_BYTES)),))
    if kind == 1:
        return Case("random text", (("manifest.yaml", draw(RANDOM_TEXT).encode("utf-8", errors="surrogatepass")),))
    soup = "".join(draw(SOUP))
    return Case("token soup", (("manifest.yaml", soup.encode()),))


def cases(seeds: list[Seed]) -> st.SearchStrategy[Case]:
    """The mix: 40 % data mutations, 25 % benign ones, 15 % text mutations, 10 % attacks, 10 % noise."""
    table = [mutated(seeds)] * 8 + [mutated(seeds, benign=True)] * 5 + [mutated(seeds, data_level=False)] * 3 + [attack()] * 2 + [noise()] * 2
    return st.integers(0, len(table) - 1).flatmap(table.__getitem__)
