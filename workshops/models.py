"""The engagement: its people and their roles, the ten-day plan, and what people do in review.

The framework content lives in `escalation`; an engagement owns exactly one framework.
"""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from datetime import date, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone as django_timezone

from escalation.copying import copy_framework
from escalation.defaults import apply_method_defaults
from escalation.models import Framework, FrameworkVersion
from workshops.people import display_name
from workshops.plan import PlannedDay, build_plan


class Role(models.TextChoices):
    FACILITATOR = "facilitator", "Facilitator"
    APPROVER = "approver", "Approver"
    REVIEWER = "reviewer", "Reviewer"
    OBSERVER = "observer", "Observer"


class Capability(models.TextChoices):
    VIEW = "view", "read the engagement"
    COMMENT = "comment", "comment on drafts"
    APPROVE = "approve", "approve or request changes"
    EDIT = "edit", "edit the framework and the plan"
    MANAGE_PEOPLE = "manage_people", "invite people and change roles"


# Who may do what, in one place. Every view asks get_engagement_for(user, slug, capability).
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.FACILITATOR: frozenset(
        {Capability.VIEW, Capability.COMMENT, Capability.EDIT, Capability.MANAGE_PEOPLE}
    ),
    Role.APPROVER: frozenset({Capability.VIEW, Capability.COMMENT, Capability.APPROVE}),
    Role.REVIEWER: frozenset({Capability.VIEW, Capability.COMMENT}),
    Role.OBSERVER: frozenset({Capability.VIEW}),
}


class EngagementStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    IN_REVIEW = "in_review", "In review"
    SIGNED_OFF = "signed_off", "Signed off"
    ARCHIVED = "archived", "Archived"


# Where an engagement may go from each status. Guards on some moves live in Engagement.move_to.
STATUS_MOVES: dict[str, tuple[str, ...]] = {
    EngagementStatus.PLANNED: (EngagementStatus.RUNNING, EngagementStatus.ARCHIVED),
    EngagementStatus.RUNNING: (EngagementStatus.IN_REVIEW, EngagementStatus.ARCHIVED),
    EngagementStatus.IN_REVIEW: (EngagementStatus.RUNNING, EngagementStatus.SIGNED_OFF),
    EngagementStatus.SIGNED_OFF: (EngagementStatus.ARCHIVED,),
    EngagementStatus.ARCHIVED: (),
}


class SignoffRule(models.TextChoices):
    ALL_APPROVERS = "all_approvers", "Every approver"
    NAMED_APPROVERS = "named_approvers", "The named approvers"


class EngagementQuerySet(models.QuerySet["Engagement"]):
    def visible_to(self, user: Any) -> EngagementQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def active(self) -> EngagementQuerySet:
        return self.exclude(status=EngagementStatus.ARCHIVED)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/London).")


class Engagement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=60, unique=True)
    client_organisation = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    scope_summary = models.TextField(blank=True)
    start_date = models.DateField()
    working_days = models.PositiveSmallIntegerField(default=10)
    timezone = models.CharField(
        max_length=60, default="Europe/London", validators=[validate_timezone]
    )
    holidays = ArrayField(models.DateField(), default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=EngagementStatus.choices, default=EngagementStatus.PLANNED
    )
    signoff_rule = models.CharField(
        max_length=20, choices=SignoffRule.choices, default=SignoffRule.ALL_APPROVERS
    )
    framework = models.OneToOneField(Framework, on_delete=models.PROTECT, related_name="engagement")
    created_at = models.DateTimeField(default=django_timezone.now)

    objects = EngagementQuerySet.as_manager()

    # Not a column: get_engagement_for() attaches the requesting user's membership to the
    # engagement it returns, so views ask `engagement.membership.can(...)` without a query.
    membership: Membership

    class Meta:
        ordering: ClassVar[list[str]] = ["-start_date", "title"]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(working_days__gte=5, working_days__lte=10),
                name="engagement_working_days_between_5_and_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_organisation}: {self.title}"

    def clean(self) -> None:
        if self.working_days is not None and not 5 <= self.working_days <= 10:
            raise ValidationError({"working_days": "An engagement runs 5 to 10 working days."})

    @transaction.atomic  # the engagement, its framework and its first facilitator exist together
    def open_for(self, facilitator: Any, *, copy_from: Engagement | None = None) -> None:
        """Save this new engagement with its framework: the method's defaults, or a copy of
        `copy_from`'s framework for the next review cycle. `facilitator` runs it."""
        name = f"{self.client_organisation} escalation framework"
        if copy_from is not None:
            self.framework = copy_framework(copy_from.framework, name=name)
        else:
            self.framework = Framework.objects.create(name=name)
            apply_method_defaults(self.framework)
        self.save()
        Membership.objects.create(engagement=self, user=facilitator, role=Role.FACILITATOR)

    def plan(self) -> list[PlannedDay]:
        """The working days of this engagement, each with its part of the method."""
        return build_plan(self.start_date, self.working_days, self.holidays)

    def last_working_day(self) -> date:
        """The day the engagement ends: the plan's last day (weekends and holidays skipped)."""
        return self.plan()[-1].date

    def next_statuses(self) -> list[EngagementStatus]:
        return [EngagementStatus(status) for status in STATUS_MOVES[self.status]]

    def move_to(self, status: str, *, blocking_problems: list[str] | None = None) -> None:
        """Change the status, or raise ValidationError saying why the move is not allowed.

        `blocking_problems` is what still stands between the framework and review (the caller
        computes it from the framework content; see workshops.progress).
        """
        if status not in STATUS_MOVES[self.status]:
            raise ValidationError(
                f"An engagement cannot go from {self.get_status_display().lower()} to "
                f"{EngagementStatus(status).label.lower()}."
            )
        if status == EngagementStatus.IN_REVIEW and blocking_problems:
            raise ValidationError(
                f"Not ready for review: {len(blocking_problems)} problem(s) remain, "
                f"starting with: {blocking_problems[0]}"
            )
        if (
            status == EngagementStatus.SIGNED_OFF
            and not self.reviews.filter(state=ReviewState.APPROVED).exists()
        ):
            raise ValidationError("Sign-off needs an approved version first.")
        self.status = status
        self.save(update_fields=["status"])

    def signoff_approvers(self) -> list[Membership]:
        """Whose approval signs a version off: every approver, or the approvers marked
        `signoff_required` under the named rule (every approver when none is marked)."""
        approvers = list(
            self.memberships.filter(role=Role.APPROVER).select_related("user").order_by("id")
        )
        if self.signoff_rule == SignoffRule.NAMED_APPROVERS:
            return [m for m in approvers if m.signoff_required] or approvers
        return approvers

    @transaction.atomic  # the rule and the approvers it names must change together
    def set_signoff_rule(self, rule: str, named_usernames: set[str]) -> None:
        """Choose whose approval signs a version off. Under the named rule, `named_usernames`
        are the approvers who must approve; under "every approver" the names are kept as they
        were, so switching back restores them."""
        if rule == SignoffRule.NAMED_APPROVERS:
            approvers = self.memberships.filter(role=Role.APPROVER)
            approvers.filter(user__username__in=named_usernames).update(signoff_required=True)
            approvers.exclude(user__username__in=named_usernames).update(signoff_required=False)
        self.signoff_rule = rule
        self.save(update_fields=["signoff_rule"])

    def freeze_version(self, user: Any, summary: str) -> Review:
        """Freeze the working draft as the next version, with its review in draft."""
        from escalation.versions import freeze_version
        from workshops.audit import record_activity

        with transaction.atomic():  # a version never exists without its review and its record
            version = freeze_version(self.framework, summary, display_name(user))
            review = Review.objects.create(version=version, engagement=self)
            ReviewEvent.objects.create(
                review=review,
                actor=user,
                action=ReviewAction.FREEZE,
                from_state=ReviewState.DRAFT,
                to_state=ReviewState.DRAFT,
                reason=version.summary,
            )
            record_activity(
                self,
                user,
                "version.freeze",
                f"{display_name(user)} froze {version.label}: {version.summary}",
                changes={"sha256": {"before": None, "after": version.sha256}},
            )
        return review


def get_engagement_for(user: Any, slug: str, capability: str = Capability.VIEW) -> Engagement:
    """The engagement `slug` with the user's membership attached as `.membership`.

    A non-member gets 404 (the engagement's existence is not revealed); a member whose role lacks
    `capability` gets 403. Called on the first line of every engagement view.
    """
    membership = (
        Membership.objects.select_related("engagement", "engagement__framework")
        .filter(engagement__slug=slug, user=user)
        .first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such engagement.")
    if not membership.can(capability):
        raise PermissionDenied(
            f"As {membership.get_role_display().lower()} you cannot {Capability(capability).label}."
        )
    engagement = membership.engagement
    engagement.membership = membership
    return engagement


class Membership(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    # With SignoffRule.NAMED_APPROVERS, only approvers marked here must approve.
    signoff_required = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["role", "user__last_name", "user__username"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement", "user"], name="membership_one_role_per_engagement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} of {self.engagement.slug}"

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]

    def _refuse_leaving_without_facilitator(self) -> None:
        # Lock every facilitator row of the engagement: two facilitators demoting each other at
        # the same moment would otherwise both see "one other facilitator left" and both succeed.
        facilitators = list(
            Membership.objects.select_for_update()
            .filter(engagement_id=self.engagement_id, role=Role.FACILITATOR)
            .values_list("pk", flat=True)
        )
        if facilitators == [self.pk]:
            raise ValidationError(
                f"{self.user} is the last facilitator: make someone else facilitator first."
            )

    @transaction.atomic  # the facilitator count and the change must see the same rows
    def change_role(self, role: str) -> None:
        if self.role == Role.FACILITATOR and role != Role.FACILITATOR:
            self._refuse_leaving_without_facilitator()
        self.role = role
        self.save(update_fields=["role"])

    @transaction.atomic  # the facilitator count and the removal must see the same rows
    def remove(self) -> None:
        if self.role == Role.FACILITATOR:
            self._refuse_leaving_without_facilitator()
        self.delete()


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def invitation_expiry() -> Any:
    return django_timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.engagement.slug} as {self.role}"

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/invitations/{self.token}/"

    def unusable_reason(self) -> str:
        """Why this invitation can no longer be accepted ("" while it can)."""
        if self.accepted_at is not None:
            return "This invitation has already been used. Ask the facilitator for a new one."
        if self.expires_at <= django_timezone.now():
            return "This invitation has expired. Ask the facilitator for a new one."
        return ""

    def renew(self) -> None:
        """A new link and a new week, for an invitation not yet accepted. The old link dies.

        One conditional UPDATE: an acceptance in flight holds the row lock, so this waits for it
        and then finds the invitation used instead of renewing it.
        """
        token, expires_at = new_invitation_token(), invitation_expiry()
        renewed = Invitation.objects.filter(pk=self.pk, accepted_at__isnull=True).update(
            token=token, expires_at=expires_at
        )
        if not renewed:
            raise ValidationError("This invitation has already been accepted.")
        self.token, self.expires_at = token, expires_at

    def cancel(self) -> None:
        """Withdraw an invitation not yet accepted: its link stops working at once."""
        cancelled, _ = Invitation.objects.filter(pk=self.pk, accepted_at__isnull=True).delete()
        if not cancelled:
            raise ValidationError("This invitation has already been accepted.")

    def send(self) -> None:
        inviter = display_name(self.invited_by, absent="A facilitator")
        send_mail(
            subject=f"Invitation: {self.engagement.title} ({self.engagement.client_organisation})",
            message=(
                f"{inviter} invites you to the engagement "
                f'"{self.engagement.title}" for {self.engagement.client_organisation} as '
                f"{self.get_role_display().lower()}.\n\nAccept it here (valid until "
                f"{self.expires_at:%-d %b %Y %H:%M} UTC):\n{self.url}\n"
            ),
            from_email=None,
            recipient_list=[self.email],
        )

    @classmethod
    @transaction.atomic  # the lock below must be held until the membership exists
    def accept(cls, token: str, user: Any) -> Membership:
        """Make `user` a member as invited, once. Raises ValidationError if unusable.

        The row lock makes a second acceptance of the same token (a double click, two tabs, a
        forwarded link) wait for the first and then see it used.
        """
        invitation = (
            cls.objects.select_for_update(of=("self",))
            .select_related("engagement")
            .get(token=token)
        )
        reason = invitation.unusable_reason()
        if reason:
            raise ValidationError(reason)
        membership, _ = Membership.objects.get_or_create(
            engagement=invitation.engagement, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = django_timezone.now()
        invitation.save(update_fields=["accepted_at"])
        return membership


class DayNote(models.Model):
    """What happened on one working day: who came, what was decided, what stays open."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="day_notes")
    day_number = models.PositiveSmallIntegerField()
    attendees = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    open_questions = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["day_number"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement", "day_number"], name="day_note_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(day_number__gte=1, day_number__lte=10), name="day_note_day_in_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"Day {self.day_number} of {self.engagement.slug}"


class Activity(models.Model):
    """The audit trail: who did what, when, to which item, with before → after."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=60)
    # The framework item touched, by document collection and key ("levels/fine-tuning"), if any.
    item = models.CharField(max_length=120, blank=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        indexes: ClassVar[list[Any]] = [
            # Serves the dashboard's "recent activity" and the audit page's per-item filter.
            models.Index(fields=["engagement", "-created_at"], name="activity_recent"),
            models.Index(fields=["engagement", "item"], name="activity_by_item"),
        ]

    def __str__(self) -> str:
        return self.summary


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


class ReviewAction(models.TextChoices):
    FREEZE = "freeze", "Frozen"
    SUBMIT = "submit", "Submitted for review"
    WITHDRAW = "withdraw", "Withdrawn from review"
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Requested changes"
    SIGN_OFF = "sign_off", "Signed off"
    SUPERSEDE = "supersede", "Superseded"
    COMMENT = "comment", "Commented"


class IllegalReviewMoveError(Exception):
    """A move the review's state does not allow; the message says why, and what to do instead."""


# The state machine in one place: who may make each move, and from which states. Every other
# (move, state) pair is refused with its message in REFUSALS.
MOVES: dict[str, tuple[str, frozenset[str]]] = {
    ReviewAction.SUBMIT: (Capability.EDIT, frozenset({ReviewState.DRAFT})),
    ReviewAction.WITHDRAW: (Capability.EDIT, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.APPROVE: (Capability.APPROVE, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.REQUEST_CHANGES: (Capability.APPROVE, frozenset({ReviewState.IN_REVIEW})),
    ReviewAction.COMMENT: (
        Capability.COMMENT,
        frozenset({ReviewState.DRAFT, ReviewState.IN_REVIEW, ReviewState.CHANGES_REQUESTED}),
    ),
}

_SUPERSEDED = "{version} is superseded by a newer signed-off version."
REFUSALS: dict[tuple[str, str], str] = {
    (ReviewAction.SUBMIT, ReviewState.IN_REVIEW): "{version} is in review already.",
    (ReviewAction.SUBMIT, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version}: fix the working draft, freeze a new version "
        "and submit that."
    ),
    (ReviewAction.SUBMIT, ReviewState.APPROVED): (
        "{version} is approved already: to change it, freeze a new version."
    ),
    (ReviewAction.SUBMIT, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.WITHDRAW, ReviewState.DRAFT): (
        "{version} is not in review, so there is nothing to withdraw."
    ),
    (ReviewAction.WITHDRAW, ReviewState.CHANGES_REQUESTED): (
        "{version} is back with the facilitator already: changes were requested."
    ),
    (ReviewAction.WITHDRAW, ReviewState.APPROVED): (
        "{version} is signed off: a sign-off cannot be withdrawn. Freeze a new version instead."
    ),
    (ReviewAction.WITHDRAW, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.APPROVE, ReviewState.DRAFT): "{version} has not been submitted for review.",
    (ReviewAction.APPROVE, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version}: approve the new version that makes them."
    ),
    (ReviewAction.APPROVE, ReviewState.APPROVED): "{version} is signed off already.",
    (ReviewAction.APPROVE, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.REQUEST_CHANGES, ReviewState.DRAFT): (
        "{version} has not been submitted for review."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.CHANGES_REQUESTED): (
        "Changes were requested on {version} already."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.APPROVED): (
        "{version} is signed off: raise the change on the next version instead."
    ),
    (ReviewAction.REQUEST_CHANGES, ReviewState.SUPERSEDED): _SUPERSEDED,
    (ReviewAction.COMMENT, ReviewState.APPROVED): (
        "{version} is signed off and its discussion is closed: comment on a newer version."
    ),
    (ReviewAction.COMMENT, ReviewState.SUPERSEDED): _SUPERSEDED,
}


class ReviewQuerySet(models.QuerySet["Review"]):
    def signed_off(self) -> ReviewQuerySet:
        return self.filter(signed_off_at__isnull=False)


class Review(models.Model):
    """The review life of one frozen version: its state, and through it comments and approvals.

    Every move goes through a method here (`submit`, `withdraw`, `approve`, `request_changes`,
    `add_comment`), which checks the actor's role and the current state, locks the row so two
    people acting at once are serialized, and records the move as a ReviewEvent and an Activity.
    """

    version = models.OneToOneField(
        FrameworkVersion, on_delete=models.PROTECT, related_name="review"
    )
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="reviews")
    state = models.CharField(max_length=20, choices=ReviewState.choices, default=ReviewState.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    # Set after commit when the review request emails could not be sent (see submit()).
    notification_failed = False

    class Meta:
        ordering: ClassVar[list[str]] = ["-version__number"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(state="in_review"),
                name="review_one_in_review_per_engagement",
            ),
            models.CheckConstraint(
                condition=Q(signed_off_at__isnull=True) | Q(state__in=["approved", "superseded"]),
                name="review_signed_off_only_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.state})"

    # The moves.

    def submit(self, user: Any, *, notify: bool = True) -> None:
        """Put the version in front of reviewers and approvers; they are emailed after commit
        (`notify=False` only for seeded data: the demo and the bench)."""
        with transaction.atomic():  # state, event and the engagement's status move together
            self._begin(user, ReviewAction.SUBMIT)
            # Two versions submitted at the same instant would each miss the other's uncommitted
            # move and the loser would hit review_one_in_review_per_engagement (a server error).
            # Locking the engagement row serializes submits per engagement, so the check below
            # sees the winner and the loser gets the refusal message instead.
            Engagement.objects.select_for_update().filter(pk=self.engagement_id).exists()
            other = (
                Review.objects.filter(engagement_id=self.engagement_id, state=ReviewState.IN_REVIEW)
                .select_related("version")
                .first()
            )
            if other is not None:
                raise IllegalReviewMoveError(
                    f"{other.version.label} is in review: withdraw it before submitting "
                    f"{self.version.label}."
                )
            self.submitted_at = django_timezone.now()
            self._move(user, ReviewAction.SUBMIT, ReviewState.IN_REVIEW)
            self.engagement.status = EngagementStatus.IN_REVIEW
            self.engagement.save(update_fields=["status"])
            if notify:
                transaction.on_commit(self._send_review_request)

    def withdraw(self, user: Any, reason: str = "") -> None:
        with transaction.atomic():  # state, event and the engagement's status move together
            self._begin(user, ReviewAction.WITHDRAW)
            self._move(user, ReviewAction.WITHDRAW, ReviewState.DRAFT, reason)
            self._engagement_back_to_work()

    def request_changes(self, user: Any, reason: str) -> None:
        if not reason.strip():
            raise ValidationError({"reason": "Say what must change: a reason is required."})
        with transaction.atomic():  # the decision, the state and the event move together
            self._begin(user, ReviewAction.REQUEST_CHANGES)
            Approval.objects.create(
                review=self,
                approver=user,
                decision=Approval.Decision.CHANGES_REQUESTED,
                reason=reason.strip(),
                sha256=self.version.sha256,
            )
            self._move(user, ReviewAction.REQUEST_CHANGES, ReviewState.CHANGES_REQUESTED, reason)
            self._engagement_back_to_work()

    def approve(self, user: Any, reason: str = "") -> bool:
        """Record the approver's approval of this exact hash; sign off when the engagement's rule
        is met. Returns whether the version is now signed off."""
        # Atomic and under the review's row lock: two last approvers approving at once must
        # produce exactly one sign-off.
        with transaction.atomic():
            self._begin(user, ReviewAction.APPROVE)
            if self.approvals.filter(approver=user, decision=Approval.Decision.APPROVED).exists():
                raise IllegalReviewMoveError(f"You approved {self.version.label} already.")
            Approval.objects.create(
                review=self,
                approver=user,
                decision=Approval.Decision.APPROVED,
                reason=reason.strip(),
                sha256=self.version.sha256,
            )
            self._move(user, ReviewAction.APPROVE, ReviewState.IN_REVIEW, reason)
            if self.missing_signoffs():
                return False
            self._sign_off(user)
            return True

    def add_comment(
        self, user: Any, body: str, item: str = "", parent: Comment | None = None
    ) -> Comment:
        from escalation.presentation import item_anchors
        from workshops.audit import record_activity

        self._check(user, ReviewAction.COMMENT)
        if not body.strip():
            raise ValidationError({"body": "Write a comment first."})
        if parent is not None:
            if parent.review_id != self.pk:
                raise ValidationError("That comment belongs to another version.")
            parent = parent.parent or parent  # threads are one level deep
            item = parent.item
        elif item and item not in item_anchors(self.version.document):
            raise ValidationError({"item": f"{self.version.label} has no item {item}."})
        comment = Comment.objects.create(
            review=self, author=user, item=item, parent=parent, body=body.strip()
        )
        record_activity(
            self.engagement,
            user,
            "review.comment",
            f"{display_name(user)} commented on {self.version.label}"
            + (f" ({item})" if item else ""),
            item=item,
        )
        return comment

    # What the pages ask.

    def required_approvers(self) -> list[Membership]:
        return self.engagement.signoff_approvers()

    def missing_signoffs(self) -> list[Membership]:
        approved = set(
            self.approvals.filter(decision=Approval.Decision.APPROVED).values_list(
                "approver_id", flat=True
            )
        )
        return [m for m in self.required_approvers() if m.user_id not in approved]

    def baseline(self) -> Review | None:
        """What this review is compared against: the last signed-off version before this one,
        or, before any sign-off, the version just before it (whose review asked for changes)."""
        earlier = (
            Review.objects.filter(
                engagement_id=self.engagement_id, version__number__lt=self.version.number
            )
            .select_related("version")
            .order_by("-version__number")
        )
        return earlier.signed_off().first() or earlier.first()

    def may(self, membership: Membership, action: str) -> bool:
        """Whether `membership` may make `action` now: decides which buttons a page shows (the
        move itself checks again)."""
        capability, states = MOVES[action]
        return membership.can(capability) and self.state in states

    def refusal(self, user: Any, action: str) -> str:
        """Why `user` may not make `action` now ("" when they may): lets pages hide buttons."""
        try:
            self._check(user, action)
        except (PermissionDenied, IllegalReviewMoveError) as refused:
            return str(refused)
        return ""

    # The machinery.

    def _check(self, user: Any, action: str) -> Membership:
        membership = (
            Membership.objects.filter(engagement_id=self.engagement_id, user=user).first()
            if getattr(user, "is_authenticated", False)
            else None
        )
        if membership is None:
            raise PermissionDenied("Only members of this engagement can do that.")
        capability, states = MOVES[action]
        if not membership.can(capability):
            raise PermissionDenied(
                f"As {membership.get_role_display().lower()} you cannot "
                f"{Capability(capability).label}."
            )
        if self.state not in states:
            raise IllegalReviewMoveError(
                REFUSALS[(action, self.state)].format(version=self.version.label)
            )
        return membership

    def _begin(self, user: Any, action: str) -> Membership:
        """Lock the row and re-read the state, so the check sees any move made a moment ago."""
        locked = Review.objects.select_for_update().get(pk=self.pk)
        self.state, self.signed_off_at = locked.state, locked.signed_off_at
        return self._check(user, action)

    def _move(self, user: Any, action: str, to_state: str, reason: str = "") -> None:
        from workshops.audit import record_activity

        from_state = self.state
        self.state = to_state
        self.save(update_fields=["state", "submitted_at", "signed_off_at"])
        ReviewEvent.objects.create(
            review=self,
            actor=user,
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=reason.strip(),
        )
        record_activity(
            self.engagement,
            user,
            f"review.{action}",
            f"{display_name(user)}: {self.version.label} {ReviewAction(action).label.lower()}"
            + (f": {reason.strip()}" if reason.strip() else ""),
            changes={"state": {"before": from_state, "after": to_state}},
        )

    def _sign_off(self, user: Any) -> None:
        self.signed_off_at = django_timezone.now()
        self._move(user, ReviewAction.SIGN_OFF, ReviewState.APPROVED)
        older = (
            Review.objects.filter(
                engagement_id=self.engagement_id, version__number__lt=self.version.number
            )
            .exclude(state=ReviewState.SUPERSEDED)
            .select_related("version", "engagement")
        )
        for review in older:
            review._move(user, ReviewAction.SUPERSEDE, ReviewState.SUPERSEDED)
        self.engagement.status = EngagementStatus.SIGNED_OFF
        self.engagement.save(update_fields=["status"])

    def _engagement_back_to_work(self) -> None:
        self.engagement.status = EngagementStatus.RUNNING
        self.engagement.save(update_fields=["status"])

    def _send_review_request(self) -> None:
        from workshops.notifications import send_review_request

        self.notification_failed = not send_review_request(self)


class ReviewEvent(models.Model):
    """Each move of a review's state: who, when, from → to, and why."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=ReviewAction.choices)
    from_state = models.CharField(max_length=20, choices=ReviewState.choices)
    to_state = models.CharField(max_length=20, choices=ReviewState.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} → {self.to_state}"


class Comment(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A framework item by collection and key ("levels/fine-tuning"); blank: the whole version.
    item = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        indexes: ClassVar[list[Any]] = [
            # The version page reads all of one review's comments at once.
            models.Index(fields=["review", "created_at"], name="comment_by_review"),
        ]

    def __str__(self) -> str:
        return self.body[:60]

    def resolve(self, user: Any) -> None:
        """Close a thread: its author or a facilitator may, while the version is under discussion."""
        from workshops.audit import record_activity

        membership = self.review._check(user, ReviewAction.COMMENT)
        if self.parent_id is not None:
            raise ValidationError("Resolve the thread from its first comment.")
        if self.resolved_at is not None:
            raise ValidationError("This thread is resolved already.")
        if self.author_id != user.pk and membership.role != Role.FACILITATOR:
            raise PermissionDenied("Only the comment's author or a facilitator can resolve it.")
        self.resolved_at, self.resolved_by = django_timezone.now(), user
        self.save(update_fields=["resolved_at", "resolved_by"])
        record_activity(
            self.review.engagement,
            user,
            "review.resolve",
            f"{display_name(user)} resolved a thread on {self.review.version.label}",
            item=self.item,
        )


class Approval(models.Model):
    """An approver's decision on a version, with the exact hash they looked at."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["review", "approver"],
                condition=Q(decision="approved"),
                name="approval_once_per_approver",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision}"
