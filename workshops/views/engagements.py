from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workshops.models import Engagement, get_engagement_for


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    engagements = Engagement.objects.visible_to(request.user).order_by("-start_date")
    return render(request, "workshops/home.html", {"engagements": engagements})


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    return render(request, "workshops/dashboard.html", {"engagement": engagement})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The liveness probe for docker compose, and the floor `make bench` compares pages with."""
    return HttpResponse("ok", content_type="text/plain")
