"""What every monitoring export reads of a framework document: each bound with the values it
inherits from its threshold resolved, its AI system, and the ladder level a breach leads to; the
stamp naming the version; and the one YAML writer every file goes through.

Plain functions over a frozen document: no request, no database, no engagement (the engagement's
name reaches the stamp as text). Every text here comes from the framework, typed by people and
possibly hostile: it reaches the files only through `yaml_text` (PyYAML's safe dumper quotes and
escapes it) or `comment`, and what people read of it (names, the bound's phrase, owners) is made
one line first, any control character shown as its code point, as every other renderer does.
Keys stay as they are: the monitoring pipeline labels its metrics with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from escalation import formatting
from escalation.formatting import bound_phrase
from escalation.models import ApprovalRule
from escalation.text import character_name, one_line

# YAML 1.1 readers (Prometheus' go-yaml among them) end a line at these, not only at "\n": a
# comment holding one would end early and let the rest of the text be read as YAML.
_YAML_LINE_BREAKS = re.compile("[\u2028\u2029\ufeff]")


@dataclass(frozen=True)
class Stamp:
    """Which signed-off version a file was made from, printed at the top of every file."""

    engagement: str
    version: int
    sha256: str


@dataclass(frozen=True)
class Level:
    """The ladder level a breach escalates to, as the files name it."""

    key: str
    name: str
    rung: int  # 1 for the bottom rung
    owner: str  # "Dana Lead (CTO)"
    approval: str  # "Dana Lead (CTO), all of a named group: CTO, CFO"
    cost_ceiling: str  # "EUR 120,000" or the dash


@dataclass(frozen=True)
class MonitoredBound:
    """One bound with everything a rule needs, its threshold's defaults applied."""

    key: str
    system_key: str
    system_name: str
    output_type: str  # "" when the bound holds for every output of the system
    phrase: str  # "≥ 0.985 field accuracy"
    at_least: bool  # a floor (≥); False: a ceiling (≤), the lower-is-better metrics
    value: Decimal
    unit: str
    window_hours: int
    breaches: int  # k: escalate when breached in k ...
    windows: int  # n: ... of the last n windows
    immediate_breach_value: Decimal | None
    minimum_sample_size: int | None
    level: Level | None  # the first level it escalates to, if any

    @property
    def where(self) -> str:
        """ "Claims triage (classification)": the system and output type it watches."""
        return f"{self.system_name} ({self.output_type or 'all outputs'})"

    @property
    def trigger_rule(self) -> str:
        return formatting.trigger_rule(self.breaches, self.windows, self.window_hours)


def _decimal(value: Any) -> Decimal | None:
    if formatting.is_empty(value):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _whole(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _approval(level: dict[str, Any], owner: str) -> str:
    if level.get("approval_rule") == ApprovalRule.ALL_OF_GROUP:
        return f"{owner}, all of a named group: {level.get('approval_group', '')}"
    return owner


def ceiling_is_monthly(level: dict[str, Any]) -> bool:
    """Whether a level's ceiling recurs each month: the governance step's `cost_ceiling_basis`
    ("one_off" or "monthly"), optional: a document without it holds one-off ceilings."""
    return level.get("cost_ceiling_basis") == "monthly"


def level_currency(document: dict[str, Any], level: dict[str, Any]) -> str:
    """The level's currency, else the framework's (a document may hold either)."""
    return str(level.get("currency") or document.get("governance", {}).get("currency") or "")


def _ceiling(document: dict[str, Any], level: dict[str, Any]) -> str:
    """ "EUR 60,000", "EUR 5,000 per month"."""
    amount = formatting.money(level.get("cost_ceiling"), level_currency(document, level))
    monthly = ceiling_is_monthly(level) and amount != formatting.EMPTY
    return f"{amount} per month" if monthly else amount


def levels(document: dict[str, Any]) -> dict[str, Level]:
    """Every level of the ladder by key, as the files name it."""
    found = {}
    for rung, level in enumerate(document.get("levels", []), start=1):
        owner = one_line(
            formatting.approval_owner(
                level.get("approval_owner_name"), level.get("approval_owner_role")
            )
        )
        found[level["key"]] = Level(
            key=level["key"],
            name=one_line(level.get("name") or level["key"]),
            rung=rung,
            owner=owner,
            approval=one_line(_approval(level, owner)),
            cost_ceiling=one_line(_ceiling(document, level)),
        )
    return found


def monitored_bounds(document: dict[str, Any]) -> list[MonitoredBound]:
    """The document's bounds in register order, each resolved against its threshold.

    A bound whose own k exceeds its threshold's n (or the reverse: the checks compare the two only
    when a bound sets both) is exported as "breached in every one of the n windows"."""
    systems = {system["key"]: system for system in document.get("ai_systems", [])}
    thresholds = {threshold["key"]: threshold for threshold in document.get("thresholds", [])}
    ladder = levels(document)
    monitored = []
    for bound in document.get("bounds", []):
        value = _decimal(bound.get("value"))
        if value is None:
            continue  # nothing to compare with; the document checks name it
        threshold = thresholds.get(bound.get("threshold"), {})
        system_key = threshold.get("ai_system") or ""
        windows = _whole(bound.get("trigger_windows"), _whole(threshold.get("trigger_windows"), 1))
        breaches = _whole(
            bound.get("trigger_breaches"), _whole(threshold.get("trigger_breaches"), 1)
        )
        first_level = next(
            (ladder[key] for key in bound.get("escalates_to", []) if key in ladder), None
        )
        minimum = bound.get("minimum_sample_size")
        monitored.append(
            MonitoredBound(
                key=bound["key"],
                system_key=system_key,
                system_name=one_line(systems.get(system_key, {}).get("name") or system_key),
                output_type=one_line(threshold.get("output_type") or ""),
                phrase=one_line(bound_phrase(bound)),
                at_least=bound.get("direction") != "at_most",
                value=value,
                unit=bound.get("unit", ""),
                window_hours=_whole(
                    bound.get("window_hours"), _whole(threshold.get("measurement_window_hours"), 24)
                ),
                breaches=min(breaches, windows),
                windows=windows,
                immediate_breach_value=_decimal(bound.get("immediate_breach_value")),
                minimum_sample_size=minimum if isinstance(minimum, int) else None,
                level=first_level,
            )
        )
    return monitored


def plain_number(value: Decimal) -> str:
    """A decimal as PromQL and people read it: 0.985, 20, -0.000001 (never 2E+1)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def comment(text: str) -> str:
    """Text made safe inside a one-line YAML comment."""
    return _YAML_LINE_BREAKS.sub(lambda match: f"[{character_name(match.group())}]", one_line(text))


def header(stamp: Stamp, framework_name: str, title: str, notes: list[str]) -> str:
    lines = [
        f"{title}: generated by Escalation Workshop from the signed-off framework.",
        f"Framework: {framework_name}",
        f"Engagement: {stamp.engagement}",
        f"Version: v{stamp.version}",
        f"Version SHA-256: {stamp.sha256}",
        "Do not edit: export the version again (the same version gives the same bytes).",
        *notes,
    ]
    return "".join(f"# {comment(line)}\n" if line else "#\n" for line in lines)


def yaml_text(data: Any) -> str:
    """Data as YAML, through PyYAML's safe dumper (quoting and escaping every string that needs
    it), in the order given, one line per value whatever its length: the same data always gives
    the same bytes."""
    return yaml.dump(
        data,
        Dumper=yaml.SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )


def yaml_documents(documents: list[Any]) -> str:
    """Several YAML documents in one file, each starting with `---`."""
    return yaml.dump_all(
        documents,
        Dumper=yaml.SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
        explicit_start=True,
    )
