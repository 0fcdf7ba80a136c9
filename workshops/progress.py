"""Where an engagement stands, computed from its real content: completion per step, what blocks
review, what each day still misses and the status of every day. A constant number of queries,
however large the framework or the plan.

`escalation.checks` (the consistency checks) is used when it is installed; until then a minimal
count of the framework's content stands in for it.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from escalation.models import (
    AISystem,
    DriftTrigger,
    EscalationLevel,
    ExternalTrigger,
    FailureMode,
    Framework,
    FrameworkVersion,
    Threshold,
)
from escalation.steps import STEPS, STEPS_BY_KEY
from workshops.models import DayNote, Engagement, ReviewState
from workshops.plan import PlannedDay, Requirement, current_day_number

try:  # the steps work provides the real consistency checks; merged later
    from escalation import checks as escalation_checks  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on what is merged
    escalation_checks = None


def _count_of(model: Any, *conditions: Q) -> Coalesce:
    counted = (
        model.objects.filter(*conditions, framework=OuterRef("pk"))
        .order_by()
        .values("framework")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def content_counts(framework: Framework) -> dict[str, int]:
    """Items per step in one query (one subquery per kind of item)."""
    governed_level = Q(cost_ceiling__isnull=False) & (
        ~Q(approval_owner_name="") | ~Q(approval_owner_role="")
    )
    row = (
        Framework.objects.filter(pk=framework.pk)
        .annotate(
            n_systems=_count_of(AISystem),
            n_thresholds=_count_of(Threshold),
            n_failure_modes=_count_of(FailureMode),
            n_levels=_count_of(EscalationLevel),
            n_governed_levels=_count_of(EscalationLevel, governed_level),
            n_drift_triggers=_count_of(DriftTrigger),
            n_external_triggers=_count_of(ExternalTrigger),
        )
        .values()
        .get()
    )
    return {
        "systems": row["n_systems"],
        "thresholds": row["n_thresholds"],
        "failure-modes": row["n_failure_modes"],
        "ladder": row["n_levels"],
        "governance": row["n_governed_levels"],
        "review-cycle": row["n_drift_triggers"] + row["n_external_triggers"],
    }


def step_completion(framework: Framework) -> dict[str, int]:
    if escalation_checks is not None and hasattr(escalation_checks, "step_completion"):
        return escalation_checks.step_completion(framework)
    return content_counts(framework)


def blocking_problems(
    framework: Framework, counts: dict[str, int], engagement_end: datetime.date
) -> list[str]:
    """What must be fixed before a version goes to review, as sentences."""
    if escalation_checks is not None and hasattr(escalation_checks, "run_checks"):
        return [
            str(getattr(problem, "message", problem))
            for problem in escalation_checks.run_checks(framework, engagement_end=engagement_end)
        ]
    problems = [f"{step.title}: nothing recorded yet." for step in STEPS if not counts[step.key]]
    problems += [
        f"{name} has no performance thresholds."
        for name in AISystem.objects.filter(framework=framework, thresholds__isnull=True)
        .order_by("position", "name")
        .values_list("name", flat=True)[:20]
    ]
    if counts["ladder"] and counts["governance"] < counts["ladder"]:
        missing = counts["ladder"] - counts["governance"]
        problems.append(f"{missing} ladder level(s) lack an approval owner or a cost ceiling.")
    if not framework.sunset_criteria.strip():
        problems.append("Review cycle: no sunset criteria.")
    if framework.first_review_date is None:
        problems.append("Review cycle: no first review date.")
    return problems


@dataclass
class Facts:
    """Everything the plan's checks look at, loaded once per page."""

    counts: dict[str, int]
    problems: list[str]
    versions_frozen: int
    versions_in_review: int
    notes: dict[int, DayNote]
    today: datetime.date


def engagement_today(engagement: Engagement) -> datetime.date:
    """Today's date where the workshop happens, not on the server."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(engagement.timezone)).date()


def gather_facts(engagement: Engagement, plan: list[PlannedDay]) -> Facts:
    framework = engagement.framework
    counts = step_completion(framework)
    versions = FrameworkVersion.objects.filter(framework=framework).aggregate(
        frozen=Count("pk"),
        in_review=Count(
            "review",
            filter=Q(review__state__in=[ReviewState.IN_REVIEW, ReviewState.APPROVED]),
        ),
    )
    return Facts(
        counts=counts,
        problems=blocking_problems(framework, counts, plan[-1].date),
        versions_frozen=versions["frozen"],
        versions_in_review=versions["in_review"],
        notes={note.day_number: note for note in DayNote.objects.filter(engagement=engagement)},
        today=engagement_today(engagement),
    )


def missing_for_day(day: PlannedDay, facts: Facts) -> list[str]:
    """The day-complete check: what is still missing for `day`, in words (empty: complete)."""
    note = facts.notes.get(day.number)
    missing = []
    if note is None or not note.attendees.strip():
        missing.append("Record who attended.")
    if note is None or not note.decisions.strip():
        missing.append("Record the decisions taken.")
    for key in day.step_keys:
        if not facts.counts.get(key):
            missing.append(f"{STEPS_BY_KEY[key].title}: nothing recorded yet.")
    if Requirement.CONSISTENT in day.requires and facts.problems:
        missing.append(f"The consistency checks report {len(facts.problems)} problem(s).")
    if Requirement.VERSION_FROZEN in day.requires and not facts.versions_frozen:
        missing.append("Freeze a version of the framework.")
    if Requirement.VERSION_IN_REVIEW in day.requires and not facts.versions_in_review:
        missing.append("Send a frozen version to the approvers for review.")
    return missing


def checks_for_day(day: PlannedDay) -> int:
    """How many things `missing_for_day` can list for `day`: the denominator of progress."""
    return 2 + len(day.step_keys) + len(day.requires)


class DayStatus:
    DONE = "done"
    TODAY = "today"
    UPCOMING = "upcoming"
    BEHIND = "behind"


@dataclass
class DayProgress:
    day: PlannedDay
    missing: list[str]
    status: str

    @property
    def complete(self) -> bool:
        return not self.missing


def day_progress(plan: list[PlannedDay], facts: Facts) -> list[DayProgress]:
    rows = []
    for day in plan:
        missing = missing_for_day(day, facts)
        if not missing:
            status = DayStatus.DONE
        elif day.date == facts.today:
            status = DayStatus.TODAY
        elif day.date < facts.today:
            status = DayStatus.BEHIND
        else:
            status = DayStatus.UPCOMING
        rows.append(DayProgress(day, missing, status))
    return rows


@dataclass
class PlanProgress:
    """The wizard's progress bar: how many of the plan's checks are satisfied."""

    satisfied: int
    total: int
    days_complete: int
    days: int

    @property
    def percent(self) -> int:
        return round(100 * self.satisfied / self.total) if self.total else 0


def plan_progress(rows: list[DayProgress]) -> PlanProgress:
    total = sum(checks_for_day(row.day) for row in rows)
    return PlanProgress(
        satisfied=total - sum(len(row.missing) for row in rows),
        total=total,
        days_complete=sum(1 for row in rows if row.complete),
        days=len(rows),
    )


def where_we_are(plan: list[PlannedDay], today: datetime.date) -> str:
    """The home page's "current day", in words."""
    number = current_day_number(plan, today)
    if number is None:
        return f"Starts {plan[0].date:%a %-d %b %Y}"
    if today > plan[-1].date:
        return f"Finished {plan[-1].date:%-d %b %Y}"
    return f"Day {number} of {len(plan)}"
