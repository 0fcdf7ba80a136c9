"""The ten-day plan as data, and how it is laid on the calendar.

The method runs over ten working days: days 1–3 the AI systems in scope, their performance
thresholds and the failure-mode taxonomy; days 4–7 the escalation ladder and its governance and cost
guardrails; days 8–10 the review cycle and sunset criteria, the documentation and the stakeholders'
alignment. `TEMPLATE_DAYS` is that sequence, in one place. A shorter engagement (5 to 9 working days)
keeps the whole sequence and folds neighbouring template days together proportionally, so every
step still has a day.

Nothing here touches the database: the plan is a pure function of the start date, the length and
the holidays, which keeps it cheap on every page and easy to test.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.urls import reverse

from escalation.steps import STEPS_BY_KEY, Step


class Requirement(models.TextChoices):
    """Things a day needs beyond its notes and its steps' content, checked from real data."""

    CONSISTENT = "consistent", "The framework passes the consistency checks"
    VERSION_FROZEN = "version_frozen", "A version of the framework is frozen"
    VERSION_IN_REVIEW = "version_in_review", "A frozen version is with the stakeholders for review"


@dataclass(frozen=True)
class TemplateDay:
    number: int
    title: str
    purpose: str
    agenda: tuple[str, ...]
    prompts: tuple[str, ...]
    questions: tuple[str, ...]
    step_keys: tuple[str, ...]
    requires: tuple[str, ...] = ()


TEMPLATE_DAYS: tuple[TemplateDay, ...] = (
    TemplateDay(
        1,
        "The systems in scope and what good looks like",
        "Name every production model the rules will govern, the workflow each one serves, and "
        "start putting numbers on acceptable behaviour.",
        (
            "Walk through the inventory of AI systems in production with their business owners",
            "Agree which workflows and output types are in scope for this cycle",
            "First pass at quality, error, latency and confidence measures per system",
        ),
        (
            "Which of these models would hurt a customer or a regulator if it quietly got worse?",
            "Who notices first today when a model degrades, and how?",
            "What does each team already measure, and where does that data live?",
        ),
        (
            "Which AI systems are in scope, and who owns each one?",
            "Which output types need their own bounds?",
            "Which quality metric stands for 'good enough' for each system?",
        ),
        ("systems", "thresholds"),
    ),
    TemplateDay(
        2,
        "Performance thresholds",
        "Turn the measures into bounds that trigger an escalation review: quality floor, error-rate "
        "ceiling, latency limit, throughput floor and confidence minimum.",
        (
            "Set the bounds per system and output type, starting from today's observed numbers",
            "Decide the measurement window and how many breaches make a trigger",
            "Check each bound against its data source: can it actually be measured?",
        ),
        (
            "If this number were crossed tomorrow, would anyone act? If not, it is not a threshold.",
            "Is a single bad hour a trigger, or a pattern over several windows?",
            "Where would a stricter bound cost more than the failure it prevents?",
        ),
        (
            "What is the quality floor and error-rate ceiling of each system?",
            "Which latency percentile and limit does each workflow tolerate?",
            "How many breaches in how many windows open an escalation review?",
        ),
        ("thresholds",),
    ),
    TemplateDay(
        3,
        "Failure-mode taxonomy",
        "Sort the ways the models fail into kinds, because each kind calls for a different "
        "response: factual errors, hallucinations, format violations, domain misapplication and "
        "confidence miscalibration.",
        (
            "Collect real incidents and classify each one into a failure kind",
            "Agree severity, detection signal and resolution owner per kind",
            "Separate the immediate mitigation from the long-term fix",
        ),
        (
            "Show me the last incident: which kind was it, and who fixed it?",
            "Which failures does a threshold already catch, and which slip past every metric?",
            "Would a user tell a hallucination from a factual error? Does the response differ?",
        ),
        (
            "Which failure kinds apply to these systems, and how severe is each?",
            "How is each kind detected in production?",
            "Who owns the resolution of each kind?",
        ),
        ("failure-modes",),
    ),
    TemplateDay(
        4,
        "The escalation ladder",
        "Lay out the ordered responses, from prompt optimization through retrieval augmentation, "
        "few-shot enrichment, fine-tuning and hybrid routing to full model replacement.",
        (
            "Review the standard rungs and remove or add levels for this client",
            "Order the rungs by cost and commitment",
            "Map each failure kind to the level it should normally start at",
        ),
        (
            "Which rung has this team jumped to too early before, and what did it cost?",
            "Is there a level the organisation cannot run at all today (no data, no skills)?",
            "What is the cheapest thing that would have fixed the last incident?",
        ),
        (
            "Which levels make up this client's ladder, and in what order?",
            "Where does each failure kind enter the ladder?",
        ),
        ("ladder",),
    ),
    TemplateDay(
        5,
        "Triggers and entry criteria",
        "Give every rung the trigger that sends a model there, what must be true before entering, "
        "what success looks like and when to roll back.",
        (
            "Link thresholds to the levels they escalate to",
            "Write entry and exit criteria per level",
            "Agree a rollback rule for every level above prompt changes",
        ),
        (
            "How would an engineer on call know, from the rule alone, that this level is due?",
            "What evidence from the level below must exist before moving up?",
            "When do we declare a level failed and step back?",
        ),
        (
            "What triggers each level, and which thresholds feed it?",
            "What are the entry and exit criteria of each level?",
        ),
        ("ladder",),
    ),
    TemplateDay(
        6,
        "Governance: who approves each level",
        "Fine-tuning and custom builds need different governance than prompt changes: name the "
        "approval owner and rule of every rung.",
        (
            "Name an approval owner and role per level",
            "Decide where a single approver suffices and where a named group must agree",
            "Check the owners against the organisation chart and their availability",
        ),
        (
            "Who can say no to a fine-tuning project today, and do they know it?",
            "Which approvals would slow down a simple prompt fix for no good reason?",
            "Who signs when the approval owner is away?",
        ),
        (
            "Who approves each level, alone or as a group?",
            "Which levels need sign-off from outside the AI team?",
        ),
        ("governance",),
    ),
    TemplateDay(
        7,
        "Cost guardrails and the scope-creep rule",
        "Put a cost ceiling, an expected cost delta and a timeline delta on each level, and agree "
        "the rule that stops teams from skipping rungs.",
        (
            "Estimate the cost and timeline delta of each level",
            "Set cost ceilings that force a new approval when crossed",
            "Agree the scope-creep rule in the client's own words",
        ),
        (
            "What would the finance partner need to see before funding a fine-tune?",
            "What happens when a level overruns its ceiling halfway through?",
            "When is skipping a rung legitimate, and who records why?",
        ),
        (
            "What is the cost ceiling and expected delta of each level?",
            "What is the rule against jumping up the ladder?",
        ),
        ("governance",),
    ),
    TemplateDay(
        8,
        "Review cycle and sunset criteria",
        "Decide when the rules themselves are reviewed: a scheduled cycle, drift alerts, and outside "
        "events such as foundation model updates or regulatory changes.",
        (
            "Set the review frequency and the first review date",
            "Define the drift and alert conditions that call an unscheduled review",
            "List the external events that reset the cost-benefit calculation",
            "Write the sunset criteria: when a rule or a system retires",
        ),
        (
            "What would make this framework wrong a year from now?",
            "Which vendor or regulator announcement would send us back to the table?",
            "When should an escalation decision expire if nobody revisits it?",
        ),
        (
            "How often is the framework reviewed, and when first?",
            "Which drift conditions and outside events trigger a review?",
            "What are the sunset criteria?",
        ),
        ("review-cycle",),
    ),
    TemplateDay(
        9,
        "Documentation",
        "Bring the pieces together into one consistent document: run the consistency checks, fix "
        "what they find and freeze a version for the stakeholders.",
        (
            "Run the consistency checks and resolve every problem",
            "Read the four artifacts end to end with the working group",
            "Freeze a version with a summary of what it settles",
        ),
        (
            "Could someone who missed the whole workshop apply these rules from the document alone?",
            "Which open questions from earlier days are still open?",
        ),
        (
            "Is anything in the framework contradictory or incomplete?",
            "Is this version ready to send to the approvers?",
        ),
        (),
        (Requirement.CONSISTENT, Requirement.VERSION_FROZEN),
    ),
    TemplateDay(
        10,
        "Stakeholder alignment",
        "Walk the approvers and reviewers through the frozen version, collect their comments, and "
        "agree what stands between it and sign-off.",
        (
            "Present the ladder, the thresholds and the governance to the approvers",
            "Collect comments and requests for change on the frozen version",
            "Agree the path to sign-off and the date of the first review",
        ),
        (
            "What would make an approver hesitate to sign this today?",
            "Which team will feel these rules first, and have they seen them?",
        ),
        (
            "Do the approvers accept the framework, or what must change first?",
            "Who carries the framework forward after the engagement?",
        ),
        (),
        (Requirement.VERSION_IN_REVIEW,),
    ),
)


@dataclass(frozen=True)
class PlannedDay:
    """One working day of an engagement: a date and the template days folded into it."""

    number: int
    date: datetime.date
    template_days: tuple[TemplateDay, ...]

    @property
    def title(self) -> str:
        return " · ".join(day.title for day in self.template_days)

    @property
    def purpose(self) -> str:
        return " ".join(day.purpose for day in self.template_days)

    @property
    def agenda(self) -> list[str]:
        return [item for day in self.template_days for item in day.agenda]

    @property
    def prompts(self) -> list[str]:
        return [item for day in self.template_days for item in day.prompts]

    @property
    def questions(self) -> list[str]:
        return [item for day in self.template_days for item in day.questions]

    @property
    def step_keys(self) -> list[str]:
        return _unique(key for day in self.template_days for key in day.step_keys)

    @property
    def steps(self) -> list[Step]:
        return [STEPS_BY_KEY[key] for key in self.step_keys]

    @property
    def requires(self) -> list[str]:
        return _unique(item for day in self.template_days for item in day.requires)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def working_dates(
    start: datetime.date, count: int, holidays: Iterable[datetime.date] = ()
) -> list[datetime.date]:
    """The first `count` working days from `start` on: weekends and `holidays` skipped."""
    skipped = set(holidays)
    dates: list[datetime.date] = []
    day = start
    while len(dates) < count:
        if day.weekday() < 5 and day not in skipped:
            dates.append(day)
        if day == datetime.date.max:
            # Only a start stored before dates were bounded gets here: the days left share the
            # calendar's last date, so every page still renders instead of overflowing.
            dates += [day] * (count - len(dates))
            break
        day += datetime.timedelta(days=1)
    return dates


def fold_template_days(working_days: int) -> list[tuple[TemplateDay, ...]]:
    """The template days each working day covers, keeping the method's order.

    Template day i (0-based) goes to working day floor(i * n / 10): with n between 5 and 10 the
    step between neighbours is at most one day, so no working day is left empty and none is lost.
    """
    if not 5 <= working_days <= len(TEMPLATE_DAYS):
        raise ValueError("An engagement runs 5 to 10 working days.")
    folded: list[list[TemplateDay]] = [[] for _ in range(working_days)]
    for index, day in enumerate(TEMPLATE_DAYS):
        folded[index * working_days // len(TEMPLATE_DAYS)].append(day)
    return [tuple(days) for days in folded]


def build_plan(
    start: datetime.date, working_days: int, holidays: Iterable[datetime.date] = ()
) -> list[PlannedDay]:
    dates = working_dates(start, working_days, holidays)
    return [
        PlannedDay(number, date, template_days)
        for number, (date, template_days) in enumerate(
            zip(dates, fold_template_days(working_days), strict=True), start=1
        )
    ]


def current_day_number(plan: list[PlannedDay], today: datetime.date) -> int | None:
    """The day the engagement is on: today's, or the last one before a weekend or holiday.

    None before the first day; the last day's number once the plan is over.
    """
    current = None
    for day in plan:
        if day.date <= today:
            current = day.number
    return current


def step_url(slug: str, step_key: str) -> str:
    """The step editor's address, for the day pages that link to or embed it."""
    return reverse("step", args=[slug, step_key])
