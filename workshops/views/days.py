from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.middleware import SignedInRequest
from workshops.audit import AuditVerb, record_activity
from workshops.forms import DayNoteForm
from workshops.links import numbered_url
from workshops.models import (
    Capability,
    DayNote,
    Engagement,
    Review,
    ReviewState,
    StaleNotesError,
    get_engagement_for,
)
from workshops.plan import PlannedDay, current_day_number, step_url
from workshops.progress import day_progress, engagement_today, gather_facts, plan_progress


@require_GET
def days(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    plan = engagement.plan()
    rows = day_progress(plan, gather_facts(engagement, plan))
    context = {"engagement": engagement, "rows": rows, "progress": plan_progress(rows)}
    return render(request, "workshops/days.html", context)


@require_GET
def current_day(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    number = current_day_number(engagement.plan(), engagement_today(engagement)) or 1
    return redirect("day", engagement.slug, number)


@require_GET
def day(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    _planned_day(engagement, number)
    return render(request, "workshops/day.html", _day_context(engagement, number))


@require_POST
def day_notes(request: SignedInRequest, slug: str, number: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.EDIT)
    note = _note(engagement, _planned_day(engagement, number))
    before = {name: getattr(note, name) for name in DayNoteForm.Meta.fields}
    form = DayNoteForm(request.POST, instance=note)
    if not form.is_valid():
        template = "workshops/day.html#notes-form" if request.htmx else "workshops/day.html"
        context = _day_context(engagement, number, form)
        return render(request, template, context, status=422)
    note = form.save(commit=False)
    try:
        note.save_edited(loaded_row_version=form.cleaned_data["row_version"])
    except StaleNotesError as stale:
        return _stale_notes(request, engagement, number, stale.current)
    changes = {
        name: {"before": before[name], "after": form.cleaned_data[name]}
        for name in form.changed_data
    }
    if changes:
        record_activity(
            engagement,
            request.user,
            AuditVerb.NOTED,
            f"Updated the notes of day {number}.",
            changes=changes,
        )
    if not request.htmx:
        return redirect("day", engagement.slug, number)
    context = _day_context(engagement, number, saved=True)
    return render(request, "workshops/day.html#notes-saved", context)


def _stale_notes(
    request: SignedInRequest, engagement: Engagement, number: int, current: DayNote
) -> HttpResponse:
    """The typed notes again, now on top of the other person's save, which is quoted: saving
    again replaces it on purpose."""
    data = request.POST.copy()
    data["row_version"] = str(current.row_version)
    form = DayNoteForm(data, instance=current)
    form.is_valid()
    form.add_error(
        None,
        "Someone else saved this day's notes after you opened them. Theirs: "
        + " / ".join(getattr(current, name) or "—" for name in DayNoteForm.Meta.fields)
        + ". Save again to replace them with yours.",
    )
    template = "workshops/day.html#notes-form" if request.htmx else "workshops/day.html"
    # 409 says what happened; htmx only swaps 2xx and 422, so it gets 422 with the fragment.
    status = 422 if request.htmx else 409
    return render(request, template, _day_context(engagement, number, form), status=status)


def _planned_day(engagement: Engagement, number: int) -> PlannedDay:
    plan = engagement.plan()
    if not 1 <= number <= len(plan):
        raise Http404("The plan has no such day.")
    return plan[number - 1]


def _note(engagement: Engagement, day: PlannedDay) -> DayNote:
    note = DayNote.objects.filter(engagement=engagement, day_number=day.number).first()
    return note or DayNote(engagement=engagement, day_number=day.number)


def _day_context(
    engagement: Engagement, number: int, form: DayNoteForm | None = None, saved: bool = False
) -> dict[str, object]:
    plan = engagement.plan()
    facts = gather_facts(engagement, plan)
    rows = day_progress(plan, facts)
    row = rows[number - 1]
    day_url = numbered_url("day", engagement.slug)
    if form is None:
        note = facts.notes.get(number) or DayNote(engagement=engagement, day_number=number)
        form = DayNoteForm(instance=note)
    return {
        "engagement": engagement,
        "row": row,
        "day": row.day,
        "steps": [(step, step_url(engagement.slug, step.key)) for step in row.day.steps],
        "rows": rows,
        # The wizard's link to each day, from one reverse() rather than one per day.
        "wizard": [(other, day_url(other.day.number)) for other in rows],
        "progress": plan_progress(rows),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < len(plan) else None,
        "form": form,
        "saved": saved,
        "can_edit": engagement.membership.can(Capability.EDIT),
        "review_actions": _review_actions(engagement) if row.day.requires else None,
    }


def _review_actions(engagement: Engagement) -> dict[str, object]:
    """For the days that end in checks, a freeze and a review: whether there is anything new to
    freeze, and the frozen version waiting to be sent (two queries and the draft's document)."""
    latest = (
        Review.objects.filter(engagement=engagement)
        .select_related("version")
        .defer("version__document")
        .order_by("-version__number")
        .first()
    )
    draft_sha256 = engagement.draft_sha256()
    return {
        "latest": latest,
        "draft_changed": latest is None or latest.version.sha256 != draft_sha256,
        "to_submit": latest if latest and latest.state == ReviewState.DRAFT else None,
    }
