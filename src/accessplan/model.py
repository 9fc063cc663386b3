"""The manifest, as pydantic models: strict, closed, frozen, without I/O.

One :class:`ManifestFile` is what one YAML file may hold (every top-level key
optional, as the JSON Schema says); rules that span files are ``validate``'s
job. Values a user can get wrong in a way worth a hint (product names,
regions, time zones, durations, dates) raise :class:`PydanticCustomError`
with a ``hint`` in its context, which the loader turns into a diagnostic.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, timezone
from functools import cache, lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from accessplan.catalog import LEVELS, load_catalog

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
DURATION_RE = re.compile(r"^([1-9][0-9]{0,5})([hd])$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATETIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})$")


def suggest(word: str, choices: Any) -> str | None:
    """The closest valid spelling of ``word``, for "did you mean" hints."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        found = lowered.get(word.lower())
        return found
    return match[0]


def did_you_mean(word: str, choices: Any, fallback: str | None = None) -> str | None:
    close = suggest(word, choices)
    return f"did you mean '{close}'?" if close else fallback


def _fail(message: str, hint: str | None = None) -> PydanticCustomError:
    return PydanticCustomError("accessplan", "{message}", {"message": message, "hint": hint})


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise _fail(
            f"'{value}' is not a valid id",
            "ids are 1-63 lower-case letters, digits and '-', starting with a letter or digit",
        )
    return value


@lru_cache(maxsize=8192)  # a partner's analysts are named again in every customer's groups
def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise _fail(f"'{value}' is not a valid email address", "write it as name@domain.example")
    return value.lower()


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1024)
def _known_timezone(value: str) -> bool:
    """Whether ``value`` names a time zone; cached, as a thousand users share a few dozen zones."""
    try:
        return bool(value) and value == value.strip() and ZoneInfo(value) is not None
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False


def _timezone(value: str) -> str:
    if not _known_timezone(value):
        raise _fail(f"unknown time zone '{value}'", did_you_mean(value, _timezones(), "use an IANA name such as Europe/Berlin"))
    return value


def _region(value: str) -> str:
    regions = load_catalog().regions
    if value not in regions:
        raise _fail(f"unknown region '{value}'", did_you_mean(value, regions, f"regions are {', '.join(regions)}"))
    return value


def _product(value: str) -> str:
    catalog = load_catalog()
    product = catalog.product(value)
    if product is None:
        raise _fail(
            f"unknown product '{value}'",
            did_you_mean(value, catalog.product_names(), f"products are {', '.join(catalog.products)}"),
        )
    return product.name


def _level(value: str) -> str:
    if value not in LEVELS:
        raise _fail(f"unknown access level '{value}'", did_you_mean(value, LEVELS, f"levels are {', '.join(LEVELS)}"))
    return value


def _duration(value: str) -> str:
    if value == "permanent" or DURATION_RE.match(value):
        return value
    raise _fail(f"invalid duration '{value}'", "write 'permanent', '<n>h' or '<n>d', e.g. 48h or 30d")


def _date(value: Any) -> Any:
    if isinstance(value, str):
        if not DATE_RE.match(value):
            raise _fail(f"invalid date '{value}'", "write the date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _fail(f"invalid date '{value}': {exc}", "write an existing date as YYYY-MM-DD") from None
    return value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        if not DATETIME_RE.match(value):
            raise _fail(
                f"invalid time '{value}'",
                "write an ISO 8601 time with a zone, e.g. 2027-03-31T18:00:00Z",
            )
        try:
            return datetime.fromisoformat(value).astimezone(timezone.utc)
        except ValueError as exc:
            raise _fail(f"invalid time '{value}': {exc}", "write an existing time, e.g. 2027-03-31T18:00:00Z") from None
    return value


def _unique(values: list[Any]) -> list[Any]:
    if len(values) < 2 or len(set(values)) == len(values):
        return values  # the usual case, decided in C
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise _fail(f"'{v}' is listed twice", "list each entry once")
        seen.add(v)
    return values


Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
Timezone = Annotated[str, AfterValidator(_timezone)]
Region = Annotated[str, AfterValidator(_region)]
Product = Annotated[str, AfterValidator(_product)]
Level = Annotated[str, AfterValidator(_level)]
Duration = Annotated[str, AfterValidator(_duration)]
Date = Annotated[date, BeforeValidator(_date)]
Timestamp = Annotated[datetime, BeforeValidator(_datetime)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Products = Annotated[list[Product], AfterValidator(_unique)]
Names = Annotated[list[Name], AfterValidator(_unique)]
Emails = Annotated[list[Email], AfterValidator(_unique)]
Slugs = Annotated[list[Slug], AfterValidator(_unique)]


def _empty(factory: type[list[Any]] | type[dict[Any, Any]]) -> Any:
    """An empty list or mapping as a field's default, made fresh for each object.

    A literal ``[]`` default would be deep-copied by pydantic for every object
    that omits the field (13,000 copies in a large MSSP); a factory is cheaper.
    The schema still shows the default.
    """
    return Field(default_factory=factory, json_schema_extra={"default": factory()})


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)


def duration_hours(value: str | None) -> int | None:
    """Hours of a relative duration; ``None`` for permanent or unset."""
    if value is None or value == "permanent":
        return None
    match = DURATION_RE.match(value)
    assert match is not None, value
    n = int(match.group(1))
    return n * 24 if match.group(2) == "d" else n


class LogRules(Model):
    """Log sets or logs selected and restricted (seed: restriction wins)."""

    select: Names = _empty(list)
    restrict: Names = _empty(list)


class User(Model):
    email: Email
    first_name: Name
    last_name: Name
    timezone: Timezone
    platform_admin: bool = False
    distribution_list: bool = False
    products: Products = _empty(list)
    roles: Names = _empty(list)
    logs: LogRules | None = None


class Group(Model):
    name: Name
    description: str | None = None
    products: Products = _empty(list)
    roles: Names = _empty(list)
    members: Emails = _empty(list)
    logs: LogRules | None = None


class LogSet(Model):
    name: Name
    logs: Names = _empty(list)


class DataAccess(Model):
    default_all_logs: bool = True


class Account(Model):
    id: Slug
    name: Name
    products: Products = _empty(list)
    users: list[User] = _empty(list)
    groups: list[Group] = _empty(list)
    data_access: DataAccess = DataAccess()
    log_sets: list[LogSet] = _empty(list)
    logs: Names = _empty(list)


class Partner(Account):
    region: Region


class Poc(Model):
    products: Products = Field(min_length=1)
    first_user: Email
    expires: Date


class PocLicense(Model):
    product: Product
    product_admin: Email
    expires: Date


class Customer(Account):
    region: Region | None = None
    labels: dict[Name, str] = _empty(dict)
    poc: Poc | None = None
    poc_licenses: list[PocLicense] = _empty(list)
    protect: bool = False


class CustomRole(Model):
    name: Name
    product: Product
    description: str | None = None
    extends: Name | None = None
    permissions: dict[Name, Level] = _empty(dict)


class LabelSelector(Model):
    labels: dict[Name, str] = Field(min_length=1)


def _customers(value: Any) -> Any:
    if value == "*" or isinstance(value, (list, dict)):
        return value
    raise _fail(
        "customers must be \"*\", a list of customer ids, or {labels: {...}}",
        'quote the star: customers: "*"' if value is None else None,
    )


class Grant(Model):
    """Partner users -> customers; expands to one assignment per pair."""

    description: str | None = None
    users: Emails = Field(min_length=1)
    customers: Annotated[Literal["*"] | Slugs | LabelSelector, BeforeValidator(_customers)]
    except_customers: Slugs = _empty(list)
    platform_admin: bool | None = None
    duration: Duration | None = None
    until: Timestamp | None = None
    products: Products = _empty(list)
    roles: Names = _empty(list)
    logs: LogRules | None = None

    @model_validator(mode="after")
    def _one_expiry(self) -> Grant:
        if self.duration is not None and self.until is not None:
            raise _fail("a grant takes 'duration' or 'until', not both", "keep the one you mean")
        return self

    @property
    def hours(self) -> int | None:
        return duration_hours(self.duration)


class Policy(Model):
    min_platform_admins_per_customer: int = Field(default=0, ge=0)
    forbid_permanent_platform_admin: bool = False
    max_admin_duration: Duration | None = None
    max_admin_customers_per_user: int | None = Field(default=None, ge=1)
    expiry_warning: Duration | None = None


FeatureExpect = Annotated[str, AfterValidator(lambda v: v if v == "none" else _level(v))]


class Expectation(Model):
    platform_admin: bool | None = None
    products: list[Name] | None = None
    features: dict[Name, dict[Name, FeatureExpect]] | None = None
    logs: dict[Name, bool] | None = None


class AccessTest(Model):
    name: str | None = None
    user: Email
    customer: Slug
    expect: Expectation


class ManifestFile(Model):
    """One manifest file; every key optional (files are combined by the loader)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        title="accessplan manifest file",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    version: Literal[1] | None = None
    partner: Partner | None = None
    roles: list[CustomRole] = _empty(list)
    customers: list[Customer] = _empty(list)
    grants: list[Grant] = _empty(list)
    policy: Policy | None = None
    tests: list[AccessTest] = _empty(list)
