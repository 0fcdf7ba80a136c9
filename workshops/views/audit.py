"""The audit trail page: every recorded change of the engagement, filtered by framework item,
person or verb, newest first."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workshops.models import Activity, Engagement, get_engagement_for

AUDIT_PAGE_SIZE = 50


@require_GET
def audit_trail(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    anchor, person, verb = (request.GET.get(k, "").strip() for k in ("item", "person", "verb"))
    activities = Activity.objects.filter(engagement=engagement).select_related("actor")
    if anchor:
        activities = activities.filter(Q(anchor=anchor) | Q(anchor__startswith=f"{anchor}/"))
    if person:
        activities = activities.filter(actor__username=person)
    if verb:
        activities = activities.filter(verb=verb)
    page = Paginator(activities, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    # Filter choices: who is in the engagement, and which verbs and items occur (three queries).
    context = {
        "engagement": engagement,
        "page": page,
        "filters": {"item": anchor, "person": person, "verb": verb},
        "people": engagement.memberships.select_related("user").order_by("user__username"),
        "verbs": _distinct(engagement, "verb"),
        "items": _distinct(engagement, "anchor"),
    }
    return render(request, "workshops/audit.html", context)


def _distinct(engagement: Engagement, column: str) -> list[str]:
    values = (
        Activity.objects.filter(engagement=engagement)
        .exclude(**{column: ""})
        .order_by(column)
        .values_list(column, flat=True)
        .distinct()
    )
    return list(values)
