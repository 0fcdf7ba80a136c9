"""Where an engagement stands, computed from its real content: completion per step, what blocks
review, what each day still misses and the status of every day. A constant number of queries,
however large the framework or the plan: the consistency checks, the completion figures and the
item counts come from one report on the working draft, cached under its content revision.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.utils import timezone

from escalation.checks import DraftReport, report_on_draft
from escalation.steps import STEPS_BY_KEY
from workshops.models import DayNote, Engagement, Member, Review, ReviewState
from workshops.plan import PlannedDay, Requirement, current_day_number


@dataclass
class Facts:
    """Everything the plan's checks look at, loaded once per page."""

    counts: dict[str, int]
    problems: list[str]
    version_frozen: bool  # the engagement has a frozen version
    version_in_review: bool  # one of its versions is in review or approved
    notes: dict[int, DayNote]
    today: datetime.date
    completion: dict[str, int] = field(default_factory=dict)  # percent per step


def engagement_today(engagement: Engagement) -> datetime.date:
    """Today's date where the workshop happens, not on the server."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(engagement.timezone)).date()


def _report(
    engagement: Engagement, plan: list[PlannedDay], members: list[Member] | None
) -> DraftReport:
    return report_on_draft(
        engagement.framework,
        engagement_end=plan[-1].date,
        members=engagement.member_names(members),
        holidays=engagement.holidays,
    )


def blocking_problems(engagement: Engagement, plan: list[PlannedDay]) -> list[str]:
    """What still blocks review, as `gather_facts` says it, for a page that needs nothing else
    of the facts (the members and the draft's report: no versions, no day notes)."""
    return [
        problem.message for problem in _report(engagement, plan, None).problems if problem.blocking
    ]


def gather_facts(
    engagement: Engagement,
    plan: list[PlannedDay],
    members: list[Member] | None = None,
    review_states: list[str] | None = None,
) -> Facts:
    """`members` and `review_states` (the states of the reviews in play): what the page has read
    already, as the dashboard has for its people and its next actions (no query for them).
    Without them, the states are read once per review revision of the engagement (`engagement`
    as get_engagement_for returns it)."""
    report = _report(engagement, plan, members)
    if review_states is None:
        review_states = engagement.once_per_review_revision(
            "states-in-play",
            lambda: list(
                Review.objects.filter(engagement=engagement)
                .in_play()
                .values_list("state", flat=True)
            ),
        )
    return Facts(
        counts=report.counts,
        completion=report.completion,
        problems=[problem.message for problem in report.problems if problem.blocking],
        version_frozen=bool(review_states),  # every version has its review, one in play at least
        version_in_review=any(
            state in (ReviewState.IN_REVIEW, ReviewState.APPROVED) for state in review_states
        ),
        notes={note.day_number: note for note in DayNote.objects.filter(engagement=engagement)},
        today=engagement_today(engagement),
    )


class Missing(str):
    """One thing a day still misses, in words, and `where` it is done: "notes", a step's key,
    or a requirement (Requirement's values)."""

    where: str

    def __new__(cls, text: str, where: str) -> Missing:
        missing = super().__new__(cls, text)
        missing.where = where
        return missing


def missing_for_day(day: PlannedDay, facts: Facts) -> list[Missing]:
    """The day-complete check: what is still missing for `day`, in words (empty: complete)."""
    note = facts.notes.get(day.number)
    missing = []
    if note is None or not note.attendees.strip():
        missing.append(Missing("Record who attended.", "notes"))
    if note is None or not note.decisions.strip():
        missing.append(Missing("Record the decisions taken.", "notes"))
    for key in day.step_keys:
        if not facts.counts.get(key):
            missing.append(Missing(f"{STEPS_BY_KEY[key].title}: nothing recorded yet.", key))
    if Requirement.CONSISTENT in day.requires and facts.problems:
        text = f"The consistency checks report {len(facts.problems)} problem(s)."
        missing.append(Missing(text, Requirement.CONSISTENT))
    if Requirement.VERSION_FROZEN in day.requires and not facts.version_frozen:
        missing.append(Missing("Freeze a version of the framework.", Requirement.VERSION_FROZEN))
    if Requirement.VERSION_IN_REVIEW in day.requires and not facts.version_in_review:
        text = "Send a frozen version to the approvers for review."
        missing.append(Missing(text, Requirement.VERSION_IN_REVIEW))
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
    missing: list[Missing]
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
