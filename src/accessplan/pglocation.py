"""Where a PostgreSQL state lives: a ``postgresql://`` URL, read without leaking its password.

The URL is libpq's own (``postgresql://user@host:port/dbname?sslmode=...``),
plus two parameters of accessplan's that are taken out before it reaches
libpq: ``partner=ID`` pins the partner whose state this location means (without
it, the partner comes from the manifest, or is the only one stored), and
``schema=NAME`` names the PostgreSQL schema holding accessplan's tables
(default ``accessplan``).

``display`` is the URL as messages, plans and audit records show it: the
password, in the user part or as a ``password=`` parameter, replaced by ``***``.
Keeping the password out of the URL (``PGPASSWORD``, ``~/.pgpass``) is better
still: a saved plan records the location it was made against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from accessplan.errors import StateError
from accessplan.pgschema import DEFAULT_SCHEMA, SCHEMA_NAME_RE
from accessplan.state import redact_url

_PARTNER_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_OWN = ("partner", "schema")
_SECRET = ("password",)
#: libpq settings accessplan supplies when the URL does not: a name in
#: pg_stat_activity, and no endless hang on an unreachable server.
_DEFAULTS = {"application_name": "accessplan", "connect_timeout": "10"}


@dataclass(frozen=True, slots=True)
class PgLocation:
    """A parsed state URL."""

    conninfo: str  # for libpq: accessplan's own parameters removed
    display: str  # for people: the password replaced by ***
    partner: str | None
    schema: str
    defaults: dict[str, str]  # libpq parameters the URL left out
    secrets: tuple[str, ...]  # password texts to scrub from server and driver messages


def _split_query(query: str) -> list[tuple[str, str, str]]:
    """``(raw piece, decoded key, decoded value)`` per parameter, raw pieces kept as given."""
    pieces = []
    for raw in query.split("&"):
        if not raw:
            continue
        key, _, value = raw.partition("=")
        pieces.append((raw, unquote(key), unquote(value)))
    return pieces


def parse_location(url: str) -> PgLocation:
    """Split an accessplan state URL into what libpq gets and what accessplan keeps."""
    display = redact_url(url)
    parts = urlsplit(url)
    pieces = _split_query(parts.query)
    secrets = [parts.password] if parts.password else []
    shown: list[str] = []
    for raw, key, value in pieces:
        if key in _SECRET:
            secrets.append(value)
            shown.append(f"{raw.partition('=')[0]}=***")
        else:
            shown.append(raw)
    if any(key in _SECRET for _, key, _ in pieces):
        display = display.split("?", 1)[0] + "?" + "&".join(shown)
    own: dict[str, str] = {}
    for _, key, value in pieces:
        if key in _OWN:
            if key in own:
                raise StateError(f"the state URL {display} gives '{key}' twice", "give each parameter once")
            own[key] = value
    partner = own.get("partner")
    if partner is not None and not _PARTNER_RE.match(partner):
        raise StateError(f"invalid partner '{partner}' in the state URL {display}", "partner= takes a partner id, a slug like acme-mssp")
    schema = own.get("schema", DEFAULT_SCHEMA)
    if not SCHEMA_NAME_RE.match(schema):
        raise StateError(f"invalid schema '{schema}' in the state URL {display}", "schema= takes a lower-case PostgreSQL name, e.g. accessplan")
    rest = "&".join(raw for raw, key, _ in pieces if key not in _OWN)
    base = url.split("?", 1)[0].split("#", 1)[0]
    conninfo = f"{base}?{rest}" if rest else base
    given = {key for _, key, _ in pieces}
    defaults = {k: v for k, v in _DEFAULTS.items() if k not in given}
    return PgLocation(conninfo=conninfo, display=display, partner=partner, schema=schema, defaults=defaults, secrets=tuple(s for s in secrets if s))


def scrub(text: str, location: PgLocation) -> str:
    """A driver or server message fit to show: its first line, no password in it."""
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    for secret in location.secrets:
        line = line.replace(secret, "***")
    return line
