"""``accessplan test``: the manifest's own access assertions.

A test names a user, a customer (or the partner account) and what to expect.
Only the keys listed under ``expect`` are checked, so a test says exactly what
its author cares about. A name that does not exist (user, account, product,
feature, log) fails the test rather than passing vacuously: a typo in an
assertion must not read as "no access, as expected".

Each failure carries the position of the expectation it contradicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from xml.etree import ElementTree

from accessplan.access import Access, AccessModel
from accessplan.catalog import load_catalog
from accessplan.errors import Position, sanitize
from accessplan.explain import known_users
from accessplan.loader import Manifest
from accessplan.model import AccessTest, did_you_mean


@dataclass(frozen=True, slots=True)
class Failure:
    position: Position
    message: str
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.position}: {sanitize(self.message)}"
        return text + (f" (hint: {sanitize(self.hint)})" if self.hint else "")


@dataclass(slots=True)
class TestResult:
    label: str
    position: Position
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class _Fail(Protocol):
    """The ``fail`` callback: a message, a path under the test, an optional hint."""

    def __call__(self, message: str, *path: str | int, hint: str | None = None) -> None: ...


def run_tests(manifest: Manifest, model: AccessModel) -> list[TestResult]:
    """Run every test of the manifest against ``model`` (the manifest evaluated as desired)."""
    users = set(known_users(model))
    return [_run(manifest, model, users, test) for test in manifest.tests]


def _label(test: AccessTest) -> str:
    who = f"{test.user} in {test.customer}"
    return f"{test.name} ({who})" if test.name else who


def _run(manifest: Manifest, model: AccessModel, users: set[str], test: AccessTest) -> TestResult:
    result = TestResult(_label(test), manifest.where(test))

    def fail(message: str, *path: str | int, hint: str | None = None) -> None:
        result.failures.append(Failure(manifest.where(test, *path), message, hint))

    if test.user not in users:
        fail(f"unknown user '{test.user}'", "user", hint=did_you_mean(test.user, sorted(users), "the user has access nowhere in the manifest"))
    if model.account_kind(test.customer) is None:
        fail(f"unknown customer '{test.customer}'", "customer", hint=did_you_mean(test.customer, model.accounts()))
    if result.failures:
        return result
    acc = model.access(test.customer, test.user)
    expect = test.expect
    if expect.platform_admin is not None:
        actual = bool(acc and acc.platform_admin)
        if actual != expect.platform_admin:
            fail(f"platform_admin: expected {str(expect.platform_admin).lower()}, got {str(actual).lower()}", "expect", "platform_admin")
    if expect.products is not None:
        _check_products(expect.products, acc, fail)
    if expect.features is not None:
        _check_features(expect.features, acc, fail)
    if expect.logs is not None:
        _check_logs(model, test.customer, expect.logs, acc, fail)
    return result


def _check_products(expected: Sequence[str], acc: Access | None, fail: _Fail) -> None:
    catalog = load_catalog()
    wanted: set[str] = set()
    for i, name in enumerate(expected):
        product = catalog.product(name)
        if product is None:
            fail(f"unknown product '{name}'", "expect", "products", i, hint=did_you_mean(name, catalog.product_names()))
            return
        wanted.add(product.name)
    actual = set(acc.products) if acc else set()
    if wanted != actual:
        fail(f"products: expected [{', '.join(sorted(wanted))}], got [{', '.join(sorted(actual))}]", "expect", "products")


def _check_features(expected: dict[str, dict[str, str]], acc: Access | None, fail: _Fail) -> None:
    catalog = load_catalog()
    for name, features in expected.items():
        product = catalog.product(name)
        if product is None:
            fail(f"unknown product '{name}'", "expect", "features", name, hint=did_you_mean(name, catalog.product_names()))
            continue
        for feature, level in features.items():
            where = ("expect", "features", name, feature)
            if feature not in product.features:
                fail(f"unknown feature '{feature}' of {product.name}", *where,
                     hint=did_you_mean(feature, list(product.features), f"its features are {', '.join(product.features)}"))
                continue
            fl = acc.feature(product.name, feature) if acc else None
            got = fl.level if fl else "none"
            if got != level:
                because = f" ({fl.source.describe()})" if fl else ""
                fail(f"{product.name} / {feature}: expected {level}, got {got}{because}", *where)


def _check_logs(model: AccessModel, account: str, expected: dict[str, bool], acc: Access | None, fail: _Fail) -> None:
    logs = model.log_names(account)
    for name, visible in expected.items():
        where = ("expect", "logs", name)
        if name not in logs:
            if name in model.log_set_names(account):
                fail(f"'{name}' is a log set, not a log", *where, hint="list the logs of the set one by one")
            else:
                fail(f"unknown log '{name}' in {account}", *where, hint=did_you_mean(name, list(logs), "the account has no such log"))
            continue
        got = bool(acc and acc.logs is not None and name in acc.logs)
        if got != visible:
            reason = acc.log_reasons.get(name, "").split(" — ", 1)[-1] if acc else None
            if acc is not None and acc.logs is None:
                reason = "no InsightIDR or InsightOps product"
            because = f" ({reason})" if reason else ""
            fail(f"log {name}: expected {_seen(visible)}, got {_seen(got)}{because}", *where)


def _seen(visible: bool) -> str:
    return "visible" if visible else "hidden"


def summary_line(results: Sequence[TestResult]) -> str:
    failed = sum(1 for r in results if not r.passed)
    return f"{len(results)} test{'s' if len(results) != 1 else ''}: {len(results) - failed} passed, {failed} failed"


def render_text(results: Sequence[TestResult]) -> str:
    lines: list[str] = []
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        lines.append(f"{mark} {r.position.short}: {sanitize(r.label)}")
        lines.extend(f"     {f.render()}" for f in r.failures)
    lines.append(summary_line(results))
    return "\n".join(lines)


def junit_xml(results: Sequence[TestResult], suite: str) -> str:
    """JUnit XML that CI systems display: one testcase per test, its failures in the body."""
    failures = sum(1 for r in results if not r.passed)
    root = ElementTree.Element("testsuites", tests=str(len(results)), failures=str(failures))
    node = ElementTree.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures), errors="0", skipped="0")
    for r in results:
        case = ElementTree.SubElement(node, "testcase", classname=r.position.file, name=f"{r.position.short}: {r.label}")
        if r.failures:
            failure = ElementTree.SubElement(case, "failure", message=r.failures[0].message, type="AccessTestFailure")
            failure.text = "\n".join(f.render() for f in r.failures)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
