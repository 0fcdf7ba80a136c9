"""A LiteLLM proxy config fragment for the ladder's hybrid-routing levels.

Per level of the hybrid-routing kind: one model group named after the level (the model its
traffic is routed to), carrying the level's cost ceiling as that deployment's budget
(`max_budget`, `budget_duration`), and a router fallback from each AI system the level concerns
to it. The framework names the systems' models for people ("claude-sonnet 2025-06"), not as
LiteLLM model strings, and does not name the model a level routes to: each deployment's model is
read from an environment variable (LiteLLM resolves `os.environ/NAME` in `litellm_params`), the
file saying which variable means what.

The budget: a monthly ceiling is `max_budget` per `budget_duration: 1mo`. A one-off ceiling (the
framework's default: a ceiling is one amount for the level) is the whole amount, renewed only
with the framework's review cycle (`3mo` for a quarterly review): each review re-approves or
retires the level, so spend never passes the ceiling between two reviews. LiteLLM counts spend in
US dollars: a ceiling in another currency is written as its number and the header says so.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from escalation import formatting
from escalation.exports.monitored import (
    Stamp,
    ceiling_is_monthly,
    header,
    level_currency,
    yaml_text,
)
from escalation.models import LevelKind
from escalation.schedule import MONTHS

LITELLM_FILE = "litellm.yaml"


def routing_levels(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        level
        for level in document.get("levels", [])
        if level.get("kind") == LevelKind.HYBRID_ROUTING
    ]


def environment_name(*keys: str) -> str:
    """ESCALATION_MODEL_CLAIMS_TRIAGE: an environment variable's name from keys."""
    words = re.sub(r"[^A-Z0-9]+", "_", "_".join(keys).upper()).strip("_")
    return f"ESCALATION_MODEL_{words}"


def routed_systems(document: dict[str, Any], level: dict[str, Any]) -> list[str]:
    """The AI systems a level concerns, in document order: those with a bound escalating to it
    and those a failure mode routed to it applies to (every system, when it names none)."""
    thresholds = {t["key"]: t.get("ai_system") for t in document.get("thresholds", [])}
    systems = [system["key"] for system in document.get("ai_systems", [])]
    concerned = {
        thresholds.get(bound.get("threshold"))
        for bound in document.get("bounds", [])
        if level["key"] in bound.get("escalates_to", [])
    }
    for mode in document.get("failure_modes", []):
        path = [mode.get("recommended_level"), *mode.get("then_levels", [])]
        if level["key"] in path:
            concerned.update(mode.get("applies_to") or systems)
    return [key for key in systems if key in concerned]


def budget_duration(document: dict[str, Any], level: dict[str, Any]) -> str:
    if ceiling_is_monthly(level):
        return "1mo"
    # A one-off ceiling renews with the reviews: the longest interval between two of them, so
    # spend never passes the ceiling before every cadence has reviewed the level (quarterly
    # when no cadence is set).
    frequencies = {
        cadence.get("frequency") for cadence in document.get("review_cycle", {}).get("cadences", [])
    }
    if frequencies == {"weekly"}:
        return "7d"
    months = max((MONTHS[f] for f in frequencies if f in MONTHS), default=MONTHS["quarterly"])
    return f"{months}mo"


def _ceiling(level: dict[str, Any]) -> float | None:
    try:
        amount = Decimal(str(level.get("cost_ceiling")))
    except InvalidOperation:
        return None
    return float(amount) if amount.is_finite() else None


def model_group(level: dict[str, Any]) -> str:
    """The model group a level routes to: "escalation-level/hybrid-routing" (keys hold no "/",
    so it never meets an AI system's group)."""
    return f"escalation-level/{level['key']}"


def _deployment(document: dict[str, Any], level: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"model": f"os.environ/{environment_name(level['key'])}"}
    ceiling = _ceiling(level)
    if ceiling is not None:
        params["max_budget"] = ceiling
        params["budget_duration"] = budget_duration(document, level)
    return {
        "model_name": model_group(level),
        "litellm_params": params,
        "model_info": {"id": model_group(level), "escalation_level": level.get("name", "")},
    }


def _system_deployment(system: dict[str, Any]) -> dict[str, Any]:
    recorded = " ".join(
        part for part in (system.get("model_name"), system.get("model_version")) if part
    )
    return {
        "model_name": system["key"],
        "litellm_params": {"model": f"os.environ/{environment_name(system['key'])}"},
        "model_info": {
            "id": system["key"],
            "ai_system": system.get("name", ""),
            "recorded_model": recorded,
        },
    }


def _notes(document: dict[str, Any], levels: list[dict[str, Any]]) -> list[str]:
    notes = [
        "",
        "Per hybrid-routing level: a model group named after the level, the router fallback of",
        "each AI system it concerns to it, and the level's cost ceiling as its budget.",
        "Set each model's LiteLLM model string in the environment variable named by its entry.",
    ]
    for level in levels:
        name, currency = level.get("name", level["key"]), level_currency(document, level)
        if _ceiling(level) is None:
            notes.append(f"{name}: no cost ceiling, so no budget.")
            continue
        recurs = "monthly" if ceiling_is_monthly(level) else "one-off"
        notes.append(
            f"{name}: {recurs} ceiling of {formatting.money(level.get('cost_ceiling'), currency)}; "
            f"budget_duration "
            f"{budget_duration(document, level)}"
            + ("" if recurs == "monthly" else " (renewed with each framework review)")
            + "."
        )
        if currency != "USD":
            notes.append(
                f"LiteLLM counts spend in USD: max_budget is the {currency} figure as written; "
                "convert it before deploying."
            )
    return notes


def litellm_file(document: dict[str, Any], stamp: Stamp) -> str | None:
    """The fragment, or None when the ladder has no hybrid-routing level."""
    levels = routing_levels(document)
    if not levels:
        return None
    systems = {system["key"]: system for system in document.get("ai_systems", [])}
    routed = {level["key"]: routed_systems(document, level) for level in levels}
    used = [key for key in systems if any(key in keys for keys in routed.values())]
    fallbacks: dict[str, list[str]] = {}
    for level in levels:
        for key in routed[level["key"]]:
            fallbacks.setdefault(key, []).append(model_group(level))
    fragment = {
        "model_list": [
            *(_system_deployment(systems[key]) for key in used),
            *(_deployment(document, level) for level in levels),
        ],
        "router_settings": {
            "fallbacks": [{key: targets} for key, targets in fallbacks.items()],
        },
    }
    return header(
        stamp, document.get("name", ""), "LiteLLM proxy config fragment", _notes(document, levels)
    ) + yaml_text(fragment)
