from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.middleware import SignedInRequest
from workshops.audit import AuditVerb, record_activity
from workshops.forms import InvitationForm, InvitedUserForm, RoleForm, SignoffRuleForm
from workshops.invitation_limits import invitation_refusal
from workshops.links import url_of
from workshops.models import (
    Capability,
    Engagement,
    Invitation,
    Membership,
    Review,
    ReviewState,
    Role,
    SignoffRule,
    get_engagement_for,
)
from workshops.notifications import send_invitation
from workshops.paging import page_of
from workshops.people import display_name

MEMBERS_PAGE_SIZE = 50


class MemberRow(NamedTuple):
    """One member's row on the people page: the name it shows, where its two forms post."""

    membership: Membership
    name: str
    role_url: str
    remove_url: str


@require_GET
def people(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug)
    return _render_people(request, engagement, InvitationForm(engagement=engagement))


def _render_people(
    request: HttpRequest,
    engagement: Engagement,
    form: InvitationForm,
    status: int = 200,
    signoff_form: SignoffRuleForm | None = None,
) -> HttpResponse:
    can_manage = engagement.membership.can(Capability.MANAGE_PEOPLE)
    if signoff_form is None and can_manage:
        signoff_form = SignoffRuleForm(engagement=engagement)
    # A page of members at a time, each row with its forms: the page follows what it shows.
    memberships = page_of(
        Membership.objects.filter(engagement=engagement)
        .select_related("user")
        .only("role", *(f"user__{column}" for column in _USER_COLUMNS)),
        MEMBERS_PAGE_SIZE,
        request.GET.get("page"),
    )
    role_url = url_of("change_role", engagement.slug, "username")
    remove_url = url_of("remove_member", engagement.slug, "username")
    context = {
        "engagement": engagement,
        "memberships": memberships,
        "member_rows": [
            MemberRow(
                membership,
                display_name(membership.user),
                role_url(membership.user.username),
                remove_url(membership.user.username),
            )
            for membership in memberships
        ],
        "invitations": Invitation.objects.filter(engagement=engagement, accepted_at__isnull=True)
        .select_related("invited_by")
        .only(
            "email",
            "role",
            "expires_at",
            "accepted_at",
            *(f"invited_by__{column}" for column in _USER_COLUMNS),
        ),
        "form": form,
        "roles": Role.choices,
        "can_manage": can_manage,
        "signoff_form": signoff_form,
        "open_review": _open_review_terms(engagement),
    }
    return render(request, "workshops/people.html", context, status=status)


# What the page prints of a person: the name, the username its forms address, the email.
_USER_COLUMNS = ("username", "first_name", "last_name", "email")


class OpenReviewTerms(NamedTuple):
    label: str  # the version's
    approvers: list[tuple[str, str]]  # the name and email of each approver it needs


def _open_review_terms(engagement: Engagement) -> OpenReviewTerms | None:
    """The review in progress, whose terms (required approvers, fixed at its latest submission)
    no change on this page can reach: read once per review revision of the engagement
    (ReviewRevision, moved by every write to its reviews), in two queries of a few columns."""

    def compute() -> OpenReviewTerms | None:
        review = (
            Review.objects.filter(engagement=engagement, state=ReviewState.IN_REVIEW)
            .select_related("version")
            .only("submitted_at", "version__number")
            .prefetch_related("required")
            .first()
        )
        if review is None:
            return None
        approvers = [(required.name, required.email) for required in review.required_approvers()]
        return OpenReviewTerms(review.version.label, approvers)

    return engagement.once_per_review_revision("open-review-terms", compute)


@require_POST
def invite(request: SignedInRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    form = InvitationForm(request.POST, engagement=engagement)
    if not form.is_valid():
        return _render_people(request, engagement, form, status=422)
    if refusal := invitation_refusal(engagement, request.user):
        form.add_error(None, refusal)
        return _render_people(request, engagement, form, status=429)
    invitation = Invitation.objects.create(
        engagement=engagement, invited_by=request.user, **form.cleaned_data
    )
    send_invitation(invitation)
    record_activity(
        engagement,
        request.user,
        AuditVerb.INVITED,
        f"Invited {invitation.email} as {invitation.get_role_display().lower()}.",
    )
    messages.success(request, f"Invitation sent to {invitation.email} (valid for 7 days).")
    return redirect("people", engagement.slug)


@require_POST
def change_role(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    membership = get_object_or_404(Membership, engagement=engagement, user__username=username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("people", engagement.slug)
    before = membership.get_role_display()
    try:
        cancelled = membership.change_role(form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("people", engagement.slug)
    after = membership.get_role_display()
    summary = f"Changed {membership.user}'s role from {before.lower()} to {after.lower()}."
    summary += _cancelled(cancelled)
    changes = {"role": {"before": before, "after": after}}
    record_activity(engagement, request.user, AuditVerb.ROLE_CHANGED, summary, changes=changes)
    messages.success(request, summary)
    return redirect("people", engagement.slug)


@require_POST
def remove_member(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    membership = get_object_or_404(Membership, engagement=engagement, user__username=username)
    try:
        cancelled = membership.remove()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("people", engagement.slug)
    summary = f"Removed {membership.user} ({membership.get_role_display().lower()})."
    summary += _cancelled(cancelled)
    record_activity(engagement, request.user, AuditVerb.MEMBER_REMOVED, summary)
    messages.success(request, summary)
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("people", engagement.slug)


def _cancelled(invitations: int) -> str:
    if not invitations:
        return ""
    return f" Cancelled {invitations} pending invitation(s) they had sent."


def _pending_invitation(engagement: Engagement, invitation_id: int) -> Invitation:
    return get_object_or_404(
        Invitation, pk=invitation_id, engagement=engagement, accepted_at__isnull=True
    )


@require_POST
def cancel_invitation(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    invitation = _pending_invitation(engagement, invitation_id)
    try:
        invitation.cancel()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("people", engagement.slug)
    summary = f"Cancelled the invitation of {invitation.email}."
    record_activity(engagement, request.user, AuditVerb.INVITATION_CANCELLED, summary)
    messages.success(request, f"{summary} Its link no longer works.")
    return redirect("people", engagement.slug)


@require_POST
def resend_invitation(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    invitation = _pending_invitation(engagement, invitation_id)
    if refusal := invitation_refusal(engagement, request.user):
        messages.error(request, refusal)
        return redirect("people", engagement.slug)
    try:
        invitation.renew()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("people", engagement.slug)
    send_invitation(invitation)
    summary = f"Sent {invitation.email} a new invitation link."
    record_activity(engagement, request.user, AuditVerb.INVITATION_RESENT, summary)
    messages.success(request, f"{summary} The previous link no longer works (valid for 7 days).")
    return redirect("people", engagement.slug)


@require_POST
def signoff_rule(request: HttpRequest, slug: str) -> HttpResponse:
    engagement = get_engagement_for(request.user, slug, Capability.MANAGE_PEOPLE)
    form = SignoffRuleForm(request.POST, engagement=engagement)
    if not form.is_valid():
        invitation_form = InvitationForm(engagement=engagement)
        return _render_people(request, engagement, invitation_form, 422, signoff_form=form)
    names = form.approver_names
    before = _signoff_description(engagement, [names[u] for u in form.initial["approvers"]])
    engagement.set_signoff_rule(form.cleaned_data["rule"], set(form.cleaned_data["approvers"]))
    after = _signoff_description(engagement, [names[u] for u in form.cleaned_data["approvers"]])
    if before != after:
        changes = {"sign-off rule": {"before": before, "after": after}}
        summary = f"Changed the sign-off rule: {after}."
        record_activity(
            engagement, request.user, AuditVerb.SIGNOFF_RULE_CHANGED, summary, changes=changes
        )
    messages.success(request, f"Sign-off rule saved: {after}.")
    return redirect("people", engagement.slug)


def _signoff_description(engagement: Engagement, approver_names: list[str]) -> str:
    if engagement.signoff_rule != SignoffRule.NAMED_APPROVERS:
        return "every approver must approve"
    return "only " + ", ".join(sorted(approver_names)) + " must approve"


@login_not_required
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("engagement"), token=token)
    if reason := invitation.unusable_reason():
        return _refuse(request, invitation, reason)
    if request.user.is_authenticated and (reason := invitation.refusal_for(request.user)):
        return _refuse(request, invitation, reason, status=403)
    form = (
        None
        if request.user.is_authenticated
        else InvitedUserForm(request.POST or None, invited_email=invitation.email)
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = _accept(invitation, form, request.user)
        except ValidationError as error:
            return _refuse(request, invitation, " ".join(error.messages))
        if form is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.engagement.title}.")
        return redirect("dashboard", invitation.engagement.slug)
    status = 422 if form is not None and form.is_bound else 200
    context = {"invitation": invitation, "form": form}
    return render(request, "workshops/invitation.html", context, status=status)


@transaction.atomic  # a new account must not outlive an acceptance that was refused
def _accept(
    invitation: Invitation, form: InvitedUserForm | None, user: User | AnonymousUser
) -> User:
    if form is not None:
        new_user: User = form.save(commit=False)
        new_user.email = invitation.email
        new_user.save()
        user = new_user
    if not user.is_authenticated:  # the view asks for an account form unless signed in
        raise ValidationError("Sign in, or create an account, to accept the invitation.")
    Invitation.accept(invitation.token, user)
    return user


def _refuse(
    request: HttpRequest, invitation: Invitation, reason: str, status: int = 410
) -> HttpResponse:
    context = {"invitation": invitation, "reason": reason}
    return render(request, "workshops/invitation.html", context, status=status)
