"""The consistency checks page: every problem across the steps, each with a link to fix it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from escalation import caching
from escalation.checks import is_ready_for_review, report_on_draft
from escalation.steps import STEPS
from workshops.models import Capability, Engagement, get_engagement_for
from workshops.views.steps import fix_url


@require_GET
def checks(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    report = _checked(engagement)
    context = {
        "engagement": engagement,
        **report,
        "steps": [(step, report["completion"].get(step.key, 0)) for step in STEPS],
    }
    return render(request, "workshops/checks.html", context)


def _checked(engagement: Engagement) -> dict[str, Any]:
    """What the page shows of the draft's report, its list of problems rendered: once per
    content revision and inputs (hundreds of problems, each with its fix's address, at ten times
    today's largest engagement). The same for everyone who may see the page."""
    end, holidays = engagement.last_working_day(), sorted(engagement.holidays)
    members = sorted(engagement.member_names())

    def compute() -> dict[str, Any]:
        report = report_on_draft(engagement.framework, end, members=members, holidays=holidays)
        problems = report.problems
        fixes = [(problem, fix_url(engagement.slug, problem)) for problem in problems]
        return {
            "problems": problems,
            "problem_list": render_to_string(
                "workshops/checks.html#problem-list", {"fixes": fixes}
            ),
            "ready": is_ready_for_review(problems),
            "blocking_count": sum(1 for problem in problems if problem.blocking),
            "completion": report.completion,
        }

    return caching.for_revision(
        "checks-page", engagement.framework, compute, engagement.slug, end, members, holidays
    )
