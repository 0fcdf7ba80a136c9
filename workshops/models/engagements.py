"""The engagement: its people and their roles, invitations, the ten-day plan's notes and the
audit trail. The framework content lives in `escalation`; an engagement owns exactly one framework.
"""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone as django_timezone

from escalation import caching
from escalation.copying import copy_framework
from escalation.document import draft_document, draft_sha256
from escalation.method_defaults import apply_method_defaults
from escalation.models import Framework, FrameworkRevision, RevisionCounter
from escalation.versions import freeze_version as freeze_framework_version
from workshops.audit import AuditVerb, record_activity
from workshops.people import display_name, name_from
from workshops.plan import PlannedDay, build_plan
from workshops.roles import GRANTABLE_ROLES, ROLE_CAPABILITIES, Capability, Role
from workshops.signoff import ReviewAction, ReviewState

if TYPE_CHECKING:
    from workshops.models.reviews import Review


class Member(NamedTuple):
    """One person of an engagement as its pages list them."""

    role: str
    name: str
    email: str

    @property
    def role_label(self) -> str:
        return Role(self.role).label


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

    # Not columns: get_engagement_for() attaches the requesting user's membership to the
    # engagement it returns, so views ask `engagement.membership.can(...)` without a query, and
    # the engagement's review revision (ReviewRevision) read in the same query.
    membership: Membership
    review_revision: int | None = None

    class Meta:
        ordering: ClassVar[list[str]] = ["-start_date", "title"]
        # Consultants open engagements; client stakeholders who joined by invitation do not.
        permissions = (("open_engagement", "Can open engagements (consultants)"),)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(working_days__gte=5, working_days__lte=10),
                name="engagement_working_days_between_5_and_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_organisation}: {self.title}"

    def deletion_refusal(self) -> str:
        """Why this engagement may not be deleted ("" if it may): its evidence register (frozen
        versions, approvals, sign-offs) must stay whole. The database refuses too (migration
        0009), with the same advice."""
        if self.pk is None or not self.ledger.exists():
            return ""
        return (
            f"{self} has frozen versions and approvals in its evidence register, which cannot "
            "be deleted: archive the engagement instead."
        )

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if refusal := self.deletion_refusal():
            raise PermissionDenied(refusal)
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.working_days is not None and not 5 <= self.working_days <= 10:
            raise ValidationError({"working_days": "An engagement runs 5 to 10 working days."})

    @transaction.atomic  # the engagement, its framework and its first facilitator exist together
    def open_for(
        self,
        facilitator: Any,
        *,
        copy_from: Engagement | None = None,
        framework: Framework | None = None,
    ) -> None:
        """Save this new engagement with its framework: `framework` as given (read from a file),
        a copy of `copy_from`'s framework for the next review cycle, or the method's defaults.
        `facilitator`, if not None, runs it. The one way an engagement is created."""
        name = f"{self.client_organisation} escalation framework"
        if framework is not None:
            self.framework = framework
        elif copy_from is not None:
            self.framework = copy_framework(copy_from.framework, name=name)
        else:
            self.framework = Framework.objects.create(name=name)
            apply_method_defaults(self.framework)
        self.save()
        if facilitator is not None:
            Membership.objects.create(engagement=self, user=facilitator, role=Role.FACILITATOR)

    def draft_document(self) -> dict[str, Any]:
        """The working draft as the framework document a freeze would store (its plan length
        included), so comparing it with a version's hash says whether anything changed. Built
        once per content revision of the framework (cached)."""
        return draft_document(self.framework, working_days=self.working_days)

    def draft_sha256(self) -> str:
        """The hash of `draft_document()`, from a small cache entry of its own."""
        return draft_sha256(self.framework, working_days=self.working_days)

    def plan(self) -> list[PlannedDay]:
        """The working days of this engagement, each with its part of the method."""
        return build_plan(self.start_date, self.working_days, self.holidays)

    def once_per_review_revision[T](
        self, kind: str, compute: Callable[[], T], *inputs: object
    ) -> T:
        """`compute()` once per `kind`, `inputs` and review revision of this engagement
        (ReviewRevision, escalation.caching): for what pages read of its reviews. The revision
        is the one get_engagement_for read with the membership (one value for the whole
        request), or, for an engagement read otherwise, the revision now (one query). A request
        that writes to the reviews and then shows them reads them afresh, as the version page's
        refused forms do: under this value they would be looked up from before its write."""
        revision = self.review_revision
        if revision is None:
            revision = ReviewRevision.of(self)
        return caching.for_counter("reviews", kind, self.pk, revision, compute, *inputs)

    def last_working_day(self) -> date:
        """The day the engagement ends: the plan's last day (weekends and holidays skipped)."""
        return self.plan()[-1].date

    def members(self) -> list[Member]:
        """Everyone in the engagement, by role then last name: each one's role, name and email
        read as columns (one query; 100 people at ten times today's largest engagement)."""
        rows = Membership.objects.filter(engagement=self).values_list(
            "role", "user__first_name", "user__last_name", "user__username", "user__email"
        )
        return [
            Member(role, name_from(first, last, username), email)
            for role, first, last, username, email in rows
        ]

    def member_names(self, members: list[Member] | None = None) -> list[str]:
        """The names and emails an approver group may name this engagement's people by: what
        the framework's checks receive as data (one query, none when the caller passes the
        engagement's `members()` it has already read)."""
        members = self.members() if members is None else members
        return [text for member in members for text in (member.name, member.email) if text]

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
        # Taken first, as Review.submit takes it: a submission records either the old rule with
        # the old names or the new rule with the new names, never a mixture.
        Engagement.objects.select_for_update().filter(pk=self.pk).exists()
        if rule == SignoffRule.NAMED_APPROVERS:
            approvers = self.memberships.filter(role=Role.APPROVER)
            approvers.filter(user__username__in=named_usernames).update(signoff_required=True)
            approvers.exclude(user__username__in=named_usernames).update(signoff_required=False)
        self.signoff_rule = rule
        self.save(update_fields=["signoff_rule"])

    def freeze_version(self, user: Any, summary: str) -> Review:
        """Freeze the working draft as the next version, with its review in draft."""
        with transaction.atomic():  # a version never exists without its review and its record
            version = freeze_framework_version(
                self.framework, summary, display_name(user), working_days=self.working_days
            )
            review = self.reviews.create(version=version)
            review.events.create(
                actor=user,
                action=ReviewAction.FREEZE,
                from_state=ReviewState.DRAFT,
                to_state=ReviewState.DRAFT,
                reason=version.summary,
            )
            from workshops.models.evidence import LedgerEntry, version_payload

            LedgerEntry.objects.append(
                self, LedgerEntry.Kind.VERSION, version.pk, version_payload(version)
            )
            record_activity(
                self,
                user,
                AuditVerb.VERSION_FROZEN,
                f"{display_name(user)} froze {version.label}: {version.summary}",
                changes={"sha256": {"before": None, "after": version.sha256}},
            )
        return review


class ReviewRevision(RevisionCounter):
    """Moved with every write to an engagement's reviews: their states, comments and
    resolutions, approvals, events, required approvers and sign-off records, and the names of
    the people who wrote them (migration 0014), so that what pages read of them can be cached
    under it (Engagement.once_per_review_revision)."""

    engagement_id = models.BigIntegerField(primary_key=True)


def get_engagement_for(user: Any, slug: str, capability: str = Capability.VIEW) -> Engagement:
    """The engagement `slug` with the user's membership attached as `.membership`.

    A non-member gets 404 (the engagement's existence is not revealed); a member whose role lacks
    `capability` gets 403. Called on the first line of every engagement view. The same query
    reads the framework's content revision and the engagement's review revision, which a page's
    cached parts are looked up under.
    """
    membership = (
        Membership.objects.select_related("engagement", "engagement__framework")
        .annotate(
            content_revision=FrameworkRevision.column("engagement__framework"),
            review_revision=ReviewRevision.column("engagement"),
        )
        .filter(engagement__slug=slug, user=user)
        .order_by()  # one row at most: no join with the user to sort it as members are listed
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
    engagement.review_revision = membership.review_revision
    caching.revision_read_with(engagement.framework, membership.content_revision)
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

    def _refuse_leaving_an_open_review(self, change: str) -> None:
        # The engagement row lock serializes this with Review.submit, which records the required
        # approvers under the same lock: a submit cannot slip in between this check and the change.
        Engagement.objects.select_for_update().filter(pk=self.engagement_id).exists()
        review = (
            self.engagement.reviews.filter(
                state=ReviewState.IN_REVIEW,
                required__user=self.user_id,
                required__submitted_at=F("submitted_at"),
            )
            .select_related("version")
            .first()
        )
        if review is not None:
            raise ValidationError(
                f"{display_name(self.user)} is a required approver of {review.version.label}, "
                f"in review: withdraw the review first, or wait for its outcome, to {change}."
            )

    def _cancel_invitations_beyond(self, role: str | None) -> int:
        """Cancel the pending invitations this member sent for a role that `role` (None: no
        longer a member) may not grant. Returns how many were cancelled."""
        grantable = GRANTABLE_ROLES[role] if role is not None else frozenset()
        cancelled, _ = (
            Invitation.objects.filter(
                engagement_id=self.engagement_id, invited_by=self.user_id, accepted_at__isnull=True
            )
            .exclude(role__in=grantable)
            .delete()
        )
        return cancelled

    @transaction.atomic  # the facilitator count and the change must see the same rows
    def change_role(self, role: str) -> int:
        """Give this member `role`. Returns how many invitations they sent were cancelled
        because their new role may not grant them."""
        if self.role == role:
            return 0
        self._refuse_leaving_an_open_review("change their role")
        if self.role == Role.FACILITATOR and role != Role.FACILITATOR:
            self._refuse_leaving_without_facilitator()
        self.role = role
        self.save(update_fields=["role"])
        return self._cancel_invitations_beyond(role)

    @transaction.atomic  # the facilitator count and the removal must see the same rows
    def remove(self) -> int:
        """Remove this member, and cancel the invitations they sent and nobody accepted yet (a
        link must not outlive the authority of the person who sent it). Returns how many."""
        self._refuse_leaving_an_open_review("remove them")
        if self.role == Role.FACILITATOR:
            self._refuse_leaving_without_facilitator()
        cancelled = self._cancel_invitations_beyond(None)
        self.delete()
        return cancelled


OPEN_ENGAGEMENT = "workshops.open_engagement"


def open_engagement_permission() -> Any:
    """The site permission of consultants: opening engagements (see Engagement.Meta)."""
    from django.contrib.auth.models import Permission

    return Permission.objects.get(content_type__app_label="workshops", codename="open_engagement")


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def invitation_expiry() -> Any:
    return django_timezone.now() + timedelta(days=7)


def masked_email(email: str) -> str:
    """Enough of an address for its owner to recognise it, not enough to read it off a
    forwarded link: "n…@example.com"."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


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

    def refusal_for(self, user: Any) -> str:
        """Why `user` may not accept this invitation ("" if they may): it is for one address."""
        if (user.email or "").casefold() == self.email.casefold():
            return ""
        return (
            f"This invitation is for {masked_email(self.email)}; you are signed in as "
            f"{user.get_username()} ({user.email or 'no email address'}). Sign in with the "
            "invited address, or ask the facilitator to invite this one."
        )

    @classmethod
    @transaction.atomic  # the lock below must be held until the membership exists
    def accept(cls, token: str, user: Any) -> Membership:
        """Make `user` a member as invited, once, if the invitation is for their email address.
        Raises ValidationError if unusable or meant for someone else.

        The row lock makes a second acceptance of the same token (a double click, two tabs, a
        forwarded link) wait for the first and then see it used.
        """
        invitation = (
            cls.objects.select_for_update(of=("self",))
            .select_related("engagement")
            .get(token=token)
        )
        reason = invitation.unusable_reason() or invitation.refusal_for(user)
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
    # Optimistic locking, as for framework items: a save names the version it was typed on.
    row_version = models.PositiveIntegerField(default=1)

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

    def save_edited(self, *, loaded_row_version: int | None) -> None:
        """Save notes typed on top of `loaded_row_version` (None: typed while the day had no
        notes), or raise StaleNotesError carrying the notes someone else saved meanwhile.

        An edit is one compare-and-set UPDATE. A first save is an INSERT in a savepoint: when
        two first saves race, the unique constraint day_note_one_per_day refuses the second,
        which is then told, instead of answering 500 or overwriting the first."""
        now = django_timezone.now()
        notes = DayNote.objects.filter(engagement=self.engagement, day_number=self.day_number)
        if loaded_row_version is None and self.pk is None:
            try:
                with transaction.atomic():
                    self.updated_at, self.row_version = now, 1
                    self.save(force_insert=True)
                return
            except IntegrityError:
                self.pk = None
        elif loaded_row_version is not None:
            values = {name: getattr(self, name) for name in DAY_NOTE_FIELDS}
            if notes.filter(row_version=loaded_row_version).update(
                **values, updated_at=now, row_version=F("row_version") + 1
            ):
                self.updated_at, self.row_version = now, loaded_row_version + 1
                return
        raise StaleNotesError(notes.get())


DAY_NOTE_FIELDS = ["attendees", "decisions", "open_questions"]


class StaleNotesError(Exception):
    """Someone else saved the day's notes after they were loaded into the form."""

    def __init__(self, current: DayNote) -> None:
        super().__init__(f"{current} was changed by someone else")
        self.current = current


class Activity(models.Model):
    """The audit trail: who did what, when, to which item, with before → after."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=60, choices=AuditVerb.choices)
    # The framework item touched, by document collection and key ("levels/fine-tuning"), if any.
    anchor = models.CharField(max_length=120, blank=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        indexes: ClassVar[list[Any]] = [
            # Serves the dashboard's "recent activity" and the audit page's per-item filter.
            models.Index(fields=["engagement", "-created_at"], name="activity_recent"),
            models.Index(fields=["engagement", "anchor"], name="activity_by_item"),
            # The audit page filtered by verb, newest first, and its list of the verbs used.
            models.Index(
                fields=["engagement", "verb", "-created_at", "-id"], name="activity_by_verb"
            ),
        ]

    def __str__(self) -> str:
        return self.summary
