"""The method's five steps (plus the AI systems they apply to), as data.

Everything that walks the steps in order (the ten-day plan, the dashboard's completion bars, the
step pages, the consistency checks' links) reads this list, so the sequence lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    key: str  # URL segment: /e/<slug>/steps/<key>/
    number: int  # the method's step number; 0 for the AI systems in scope
    title: str
    purpose: str
    artifact: str  # which of the four artifacts it feeds ("" for none)


STEPS: list[Step] = [
    Step(
        "systems",
        0,
        "AI systems in scope",
        "The production models and the workflows they serve: what every later rule applies to.",
        "",
    ),
    Step(
        "thresholds",
        1,
        "Performance thresholds",
        "Acceptable bounds per model and workflow: quality floor, error-rate ceiling, latency "
        "limit, throughput floor and confidence minimum. A breach triggers an escalation review.",
        "Performance threshold register",
    ),
    Step(
        "failure-modes",
        2,
        "Failure-mode taxonomy",
        "The kinds of failure a model can produce, each mapped to its own escalation response.",
        "Failure mode response matrix",
    ),
    Step(
        "ladder",
        3,
        "Escalation ladder",
        "The ordered responses, from prompt optimization to full model replacement, each with "
        "its trigger and entry criteria.",
        "Escalation ladder diagram",
    ),
    Step(
        "governance",
        4,
        "Governance and cost guardrails",
        "Who approves each level and what it may cost, so that escalation never becomes scope creep.",
        "Escalation ladder diagram",
    ),
    Step(
        "review-cycle",
        5,
        "Review cycle and sunset criteria",
        "When the rules are reviewed: scheduled cycles, drift alerts and outside events.",
        "Review cadence protocol",
    ),
]

STEPS_BY_KEY: dict[str, Step] = {step.key: step for step in STEPS}
