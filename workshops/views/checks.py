"""The consistency checks page: every problem across the steps, each with a link to fix it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from escalation.checks import is_ready_for_review, report_on_draft
from escalation.steps import STEPS
from workshops.models import Capability, get_engagement_for
from workshops.views.steps import fix_url


@require_GET
def checks(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.VIEW)
    report = report_on_draft(
        engagement.framework,
        engagement.last_working_day(),
        members=engagement.member_names(),
        holidays=engagement.holidays,
    )
    problems, completion = report.problems, report.completion
    context = {
        "engagement": engagement,
        "problems": problems,
        "fixes": [(problem, fix_url(engagement.slug, problem)) for problem in problems],
        "ready": is_ready_for_review(problems),
        "steps": [(step, completion.get(step.key, 0)) for step in STEPS],
        "blocking_count": sum(1 for problem in problems if problem.blocking),
    }
    return render(request, "workshops/checks.html", context)
