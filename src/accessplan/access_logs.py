"""Which logs a user sees once an account stops giving every user every log.

The RBAC seed's data-access rules, for one user in one account:

* visible = selected (directly or through any group) minus restricted
  (directly or through any group): a restriction always wins;
* selecting a log set covers every log the set holds, including logs added to
  it later; so does selecting every log of a set one by one;
* selecting only some logs of a set, or selecting a set while restricting one
  of its logs (the same user or group holding both rules), covers exactly the
  logs that were selected when the rule was made, never a log added later;
* restricting a log set restricts every log it holds, later ones included.

"When the rule was made" needs a memory the resources alone do not have: the
caller passes, per rule holder, the log sets' membership at that time
(``rule_time``). Without it the rule is taken to be made now, which is what
evaluating a manifest as desired means.

Each log also gets a one-line reason, so that ``explain`` can say why it is or
is not visible without repeating the logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LogRuleHolder:
    """The log rules of the user itself (``group`` None) or of one of its groups."""

    group: str | None
    select: tuple[str, ...]
    restrict: tuple[str, ...]
    #: log set name -> the logs it held when these rules were made (absent: now)
    rule_time: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def via(self) -> str:
        return "directly" if self.group is None else f"via group {self.group}"


def evaluate_logs(
    holders: Sequence[LogRuleHolder],
    log_sets: Mapping[str, tuple[str, ...]],
    logs: Mapping[str, str | None],
) -> tuple[frozenset[str], dict[str, str]]:
    """Visible logs and a reason for every log of the account.

    ``log_sets`` maps a set name to its logs now; ``logs`` every log of the
    account to its set (or None). Names that are neither are ignored here:
    ``validate`` reports them.
    """
    selected: dict[str, list[str]] = {}
    restricted: dict[str, list[str]] = {}
    missed: dict[str, list[str]] = {}  # logs a frozen selection does not cover
    for holder in holders:
        _restrictions(holder, log_sets, logs, restricted)
    for holder in holders:
        _selections(holder, log_sets, logs, selected, missed)
    visible = frozenset(name for name in selected if name not in restricted)
    reasons: dict[str, str] = {}
    for name in sorted(logs):
        if name in restricted:
            text = "hidden — " + "; ".join(_unique(restricted[name]))
            if name in selected:
                text += " (the restriction wins over: " + "; ".join(_unique([_short(r) for r in selected[name]])) + ")"
        elif name in selected:
            text = "visible — " + "; ".join(_unique(selected[name]))
        elif name in missed:
            text = "hidden — " + "; ".join(_unique(missed[name]))
        else:
            text = "hidden — not selected, directly or by any group"
        reasons[name] = text
    return visible, reasons


def _unique(items: list[str]) -> list[str]:
    return sorted(set(items))


def _short(reason: str) -> str:
    """A selection reason without its parenthesised note, for use inside another reason."""
    return reason.split(" (", 1)[0]


def _restrictions(holder: LogRuleHolder, log_sets: Mapping[str, tuple[str, ...]], logs: Mapping[str, str | None], out: dict[str, list[str]]) -> None:
    for item in holder.restrict:
        if item in log_sets:
            for name in log_sets[item]:
                out.setdefault(name, []).append(f"log set {item} restricted {holder.via}")
        elif item in logs:
            out.setdefault(item, []).append(f"restricted {holder.via}")


def _restricted_logs(holder: LogRuleHolder, log_sets: Mapping[str, tuple[str, ...]]) -> set[str]:
    names: set[str] = set()
    for item in holder.restrict:
        names.update(log_sets.get(item, (item,)))
    return names


def _selections(
    holder: LogRuleHolder,
    log_sets: Mapping[str, tuple[str, ...]],
    logs: Mapping[str, str | None],
    selected: dict[str, list[str]],
    missed: dict[str, list[str]],
) -> None:
    own_restricted = _restricted_logs(holder, log_sets)
    singles = {item for item in holder.select if item in logs and item not in log_sets}
    for item in holder.select:
        if item in log_sets:
            members = log_sets[item]
            inside = sorted(own_restricted.intersection(members))
            if not inside or item in holder.restrict:
                for name in members:
                    selected.setdefault(name, []).append(f"log set {item} selected {holder.via}")
                continue
            # Selected while one of its logs is restricted: frozen to the logs it held then.
            then = set(holder.rule_time.get(item, members))
            how = f"selected {holder.via} with {', '.join(inside)} restricted"
            for name in members:
                if name in then:
                    selected.setdefault(name, []).append(f"log set {item} {how} (so it covers the logs the set holds now, not logs added to it later)")
                else:
                    missed.setdefault(name, []).append(
                        f"added to log set {item} after it was {how}; such a selection covers only the logs the set held then"
                    )
        elif item in logs:
            selected.setdefault(item, []).append(f"selected {holder.via}")
    if not singles:
        return
    # Every log of a set selected one by one counts as selecting the set (seed).
    for set_name in sorted({logs[name] for name in singles if logs[name] is not None}, key=str):
        assert set_name is not None
        members = log_sets.get(set_name, ())
        held = holder.rule_time.get(set_name, members)
        if set_name in holder.select or not held or not singles.issuperset(held):
            if held:
                for name in members:
                    if name not in singles and name not in held and set_name not in holder.select:
                        missed.setdefault(name, []).append(
                            f"added to log set {set_name} after some of its logs were selected {holder.via}; "
                            "a partial selection covers only the logs selected"
                        )
            continue
        for name in members:
            if name not in singles:
                selected.setdefault(name, []).append(
                    f"every log of log set {set_name} selected {holder.via}, which covers logs added to it later"
                )
