"""What people do with a frozen version: its review (the sign-off state machine applied),
the events of that review, comments and approvals."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ExpressionWrapper, Q
from django.utils import timezone as django_timezone

from escalation import frozen
from escalation.models import FrameworkVersion
from workshops.audit import AuditVerb, record_activity
from workshops.models.engagements import (
    Engagement,
    EngagementStatus,
    Membership,
    SignoffRule,
)
from workshops.models.evidence import LedgerEntry, approval_payload
from workshops.notifications import send_review_request
from workshops.people import display_name
from workshops.roles import Role
from workshops.signoff import (
    MOVES,
    IllegalReviewMoveError,
    ReviewAction,
    ReviewState,
    check_move,
)
from workshops.stepup import AuthenticatedVia, Authentication


class ReviewQuerySet(models.QuerySet["Review"]):
    def signed_off(self) -> ReviewQuerySet:
        return self.filter(signed_off_at__isnull=False)

    def in_play(self) -> ReviewQuerySet:
        """All but the superseded reviews: those still asking something of someone. Each
        superseded review has a newer signed-off one, which is in play, and every frozen version
        has its review: an engagement has reviews in play as soon as it has a version."""
        return self.exclude(state=ReviewState.SUPERSEDED)

    def with_open_threads(self) -> ReviewQuerySet:
        """Each review annotated with `open_threads`, its unresolved first comments: a subquery
        per review row fetched (index thread_by_review), not a join with every comment of every
        review grouped (12,500 at ten times the largest engagement), for a page or its count."""
        return self.annotate(open_threads=_OpenThreads(models.F("pk")))

    def in_baseline_order(self, *first: Any) -> ReviewQuerySet:
        """Ordered as a version's baseline is chosen (Review.baseline): signed-off versions first
        (false before true), then the latest; `first` sorts before both."""
        not_signed_off = ExpressionWrapper(
            Q(signed_off_at__isnull=True), output_field=models.BooleanField()
        )
        return self.order_by(*first, not_signed_off, "-version__number")


class _OpenThreads(models.Func):
    """The review's first comments (threads) with no resolution, counted: SQL around the
    review's id, which Django's Subquery of OuterRef built in a millisecond and a half a query
    (the dashboard, next actions and versions list each read it), this in a tenth of that."""

    template = (
        '(SELECT COUNT(*) FROM "workshops_comment" AS "thread" '
        'WHERE "thread"."review_id" = %(expressions)s AND "thread"."parent_id" IS NULL '
        'AND NOT EXISTS (SELECT FROM "workshops_commentresolution" AS "resolved" '
        'WHERE "resolved"."comment_id" = "thread"."id"))'
    )
    output_field = models.IntegerField()


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
    # The engagement's sign-off rule as it stood at submission; blank before. With the
    # RequiredApprover rows written at the same moment, these are the review's terms.
    signoff_rule = models.CharField(max_length=20, choices=SignoffRule.choices, blank=True)

    objects = ReviewQuerySet.as_manager()

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
            # The same lock keeps role and rule changes out while the terms are recorded.
            engagement = Engagement.objects.select_for_update().get(pk=self.engagement_id)
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
            self._record_terms(engagement, self.submitted_at)
            self._move(user, ReviewAction.SUBMIT, ReviewState.IN_REVIEW)
            self.engagement.status = EngagementStatus.IN_REVIEW
            self.engagement.save(update_fields=["status"])
            if notify:
                send_review_request(self)  # queued for the worker once this commits

    def withdraw(self, user: Any, reason: str = "") -> None:
        with transaction.atomic():  # state, event and the engagement's status move together
            self._begin(user, ReviewAction.WITHDRAW)
            self._move(user, ReviewAction.WITHDRAW, ReviewState.DRAFT, reason)
            self._engagement_back_to_work()

    def request_changes(self, user: Any, reason: str, *, authentication: Authentication) -> None:
        """Send the version back; `authentication` is how the approver proved who they are."""
        if not reason.strip():
            raise ValidationError({"reason": "Say what must change: a reason is required."})
        with transaction.atomic():  # the decision, the state and the event move together
            membership = self._begin(user, ReviewAction.REQUEST_CHANGES)
            self._decide(
                user, membership, Approval.Decision.CHANGES_REQUESTED, reason, authentication
            )
            self._move(user, ReviewAction.REQUEST_CHANGES, ReviewState.CHANGES_REQUESTED, reason)
            self._engagement_back_to_work()

    def approve(self, user: Any, reason: str = "", *, authentication: Authentication) -> bool:
        """Record the approver's approval of this exact hash, with how they proved who they are;
        sign off when the terms recorded at submission are met. Returns whether the version is
        now signed off."""
        # Atomic and under the review's row lock: two last approvers approving at once must
        # produce exactly one sign-off.
        with transaction.atomic():
            membership = self._begin(user, ReviewAction.APPROVE)
            if self.approvals.filter(approver=user, decision=Approval.Decision.APPROVED).exists():
                raise IllegalReviewMoveError(f"You approved {self.version.label} already.")
            self._decide(user, membership, Approval.Decision.APPROVED, reason, authentication)
            self._move(user, ReviewAction.APPROVE, ReviewState.IN_REVIEW, reason)
            # Submitted with no approver recorded: nobody's approval can sign it off (an approver
            # invited afterwards must not be able to sign alone); withdraw and submit again.
            if not self.required_approvers() or self.missing_signoffs():
                return False
            self._sign_off(user)
            return True

    def add_comment(
        self, user: Any, body: str, anchor: str = "", parent: Comment | None = None
    ) -> Comment:
        self._check(user, ReviewAction.COMMENT)
        if not body.strip():
            raise ValidationError({"body": "Write a comment first."})
        if parent is not None:
            if parent.review_id != self.pk:
                raise ValidationError("That comment belongs to another version.")
            parent = parent.parent or parent  # threads are one level deep
            anchor = parent.anchor
        elif anchor and anchor not in frozen.item_titles(self.version):
            raise ValidationError(f"{self.version.label} has no item {anchor}.")
        comment = Comment.objects.create(
            review=self, author=user, anchor=anchor, parent=parent, body=body.strip()
        )
        record_activity(
            self.engagement,
            user,
            AuditVerb.REVIEW_COMMENTED,
            f"{display_name(user)} commented on {self.version.label}"
            + (f" ({anchor})" if anchor else ""),
            anchor=anchor,
        )
        return comment

    # What the pages ask.

    def required_approvers(self) -> list[RequiredApprover]:
        """Whose approval signs this version off: fixed when it was last submitted (none before).
        Read through `required.all()` so a prefetch serves it."""
        return [r for r in self.required.all() if r.submitted_at == self.submitted_at]

    def missing_signoffs(self) -> list[RequiredApprover]:
        approved = set(
            self.approvals.filter(decision=Approval.Decision.APPROVED).values_list(
                "approver_id", flat=True
            )
        )
        return [m for m in self.required_approvers() if m.user_id not in approved]

    def baseline(self) -> Review | None:
        """What this review is compared against: the last signed-off version before this one,
        or, before any sign-off, the version just before it (whose review asked for changes)."""
        return (
            Review.objects.filter(
                engagement_id=self.engagement_id, version__number__lt=self.version.number
            )
            .select_related("version")
            .defer("version__document")  # read only to diff, and diffs are cached by hash
            .in_baseline_order()
            .first()
        )

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
        return check_move(membership, self.state, action, self.version.label)

    def _begin(self, user: Any, action: str) -> Membership:
        """Lock the row and re-read the state, so the check sees any move made a moment ago."""
        locked = Review.objects.select_for_update().get(pk=self.pk)
        self.state, self.signed_off_at = locked.state, locked.signed_off_at
        return self._check(user, action)

    def _record_terms(self, engagement: Engagement, submitted_at: datetime.datetime) -> None:
        """Fix the sign-off terms for this review: the rule and each required approver as they
        are now. Later changes to roles or the rule reach the next review only. The rows are
        evidence (append-only): a resubmission after withdrawal adds today's terms under its own
        `submitted_at`, and only those count."""
        approvers = engagement.signoff_approvers()
        RequiredApprover.objects.bulk_create(
            RequiredApprover(
                review=self,
                submitted_at=submitted_at,
                user=membership.user,
                name=display_name(membership.user),
                email=membership.user.email,
                role=membership.role,
            )
            for membership in approvers
        )
        self.signoff_rule = engagement.signoff_rule
        self.save(update_fields=["signoff_rule"])

    def _decide(
        self,
        user: Any,
        membership: Membership,
        decision: str,
        reason: str,
        authentication: Authentication,
    ) -> Approval:
        """Record a decision with who made it as they are now (name, email, role: later edits
        to the account do not rewrite it) and how they proved who they are."""
        return Approval.objects.create(
            review=self,
            approver=user,
            approver_name=display_name(user),
            approver_email=user.email,
            approver_role=membership.role,
            decision=decision,
            reason=reason.strip(),
            sha256=self.version.sha256,
            authenticated_via=authentication.via,
            authenticated_at=authentication.at,
        )

    def _move(self, user: Any, action: str, to_state: str, reason: str = "") -> None:
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
            AuditVerb(f"review.{action}"),
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
        # Imported here: the record gathers what the pack prints (workshops.packs), which reads
        # these models.
        from workshops.packs import record_signoff

        record_signoff(self)

    def _engagement_back_to_work(self) -> None:
        self.engagement.status = EngagementStatus.RUNNING
        self.engagement.save(update_fields=["status"])


class RequiredApprover(models.Model):
    """One approver whose approval the review needs, as recorded when the version was submitted
    (name, email and role as they were then). Sign-off is decided against the rows of the
    review's latest submission only. Never changed or deleted (the database refuses)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="required")
    # The submission these terms belong to (the review's submitted_at then).
    submitted_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=300)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering: ClassVar[list[str]] = ["id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["review", "submitted_at", "user"],
                name="required_approver_once_per_submission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> for {self.review_id}"


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
    """A comment on a version or one of its items. Never edited (the database refuses): closing a
    thread adds a CommentResolution beside it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A framework item by collection and key ("levels/fine-tuning"); blank: the whole version.
    anchor = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        indexes: ClassVar[list[Any]] = [
            # The version page reads all of one review's comments at once.
            models.Index(fields=["review", "created_at"], name="comment_by_review"),
            # Counting a review's open threads (ReviewQuerySet.with_open_threads) reads the ids
            # of its first comments from this index alone, not the comments' rows.
            models.Index(
                fields=["review", "id"], condition=Q(parent__isnull=True), name="thread_by_review"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def resolution_or_none(self) -> CommentResolution | None:
        try:
            return self.resolution
        except CommentResolution.DoesNotExist:
            return None

    @property
    def resolved_at(self) -> Any:
        resolution = self.resolution_or_none
        return resolution.created_at if resolution else None

    @property
    def resolved_by(self) -> Any:
        resolution = self.resolution_or_none
        return resolution.resolved_by if resolution else None

    def resolve(self, user: Any) -> None:
        """Close a thread: its author or a facilitator may, while the version is under discussion."""
        membership = self.review._check(user, ReviewAction.COMMENT)
        if self.parent_id is not None:
            raise ValidationError("Resolve the thread from its first comment.")
        if CommentResolution.objects.filter(comment=self).exists():
            raise ValidationError("This thread is resolved already.")
        if self.author_id != user.pk and membership.role != Role.FACILITATOR:
            raise PermissionDenied("Only the comment's author or a facilitator can resolve it.")
        # A thread resolved twice at once: the second hits the one-to-one's unique index.
        self.resolution = CommentResolution.objects.create(comment=self, resolved_by=user)
        record_activity(
            self.review.engagement,
            user,
            AuditVerb.REVIEW_THREAD_RESOLVED,
            f"{display_name(user)} resolved a thread on {self.review.version.label}",
            anchor=self.anchor,
        )


class CommentResolution(models.Model):
    """A thread closed: who closed it and when, added beside the comment (which never changes)."""

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="resolution")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return f"resolution of comment {self.comment_id}"


class Approval(models.Model):
    """An approver's decision on a version, with the exact hash they looked at."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Who decided, as they were at that moment: the pack and the sign-off page print these, so a
    # display name changed later, or chosen to look like someone else's, is shown with its email.
    approver_name = models.CharField(max_length=300)
    approver_email = models.EmailField(blank=True)
    approver_role = models.CharField(max_length=20, choices=Role.choices)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    # How the approver proved who they were just before deciding (workshops.stepup).
    authenticated_via = models.CharField(max_length=20, choices=AuthenticatedVia.choices)
    authenticated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["review", "approver"],
                condition=Q(decision="approved"),
                name="approval_once_per_approver",
            ),
            models.CheckConstraint(
                condition=Q(authenticated_at__isnull=False)
                | Q(authenticated_via=AuthenticatedVia.UNRECORDED),
                name="approval_authentication_time_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Approvals are only ever added (the database refuses changes); each new one is chained
        into the engagement's evidence register in the same transaction."""
        adding = self._state.adding
        with transaction.atomic():  # no approval without its ledger entry
            super().save(*args, **kwargs)
            if adding:
                LedgerEntry.objects.append(
                    self.review.engagement,
                    LedgerEntry.Kind.APPROVAL,
                    self.pk,
                    approval_payload(self),
                )
