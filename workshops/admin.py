"""Staff see every engagement here; members see only theirs in the app."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from workshops.forms import AdminLoginForm
from workshops.models import (
    Activity,
    Approval,
    Comment,
    CommentResolution,
    DayNote,
    Engagement,
    Invitation,
    Membership,
    RequiredApprover,
    Review,
    ReviewEvent,
)
from workshops.models.evidence import LedgerEntry, SignoffRecord


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["title", "client_organisation", "slug", "status", "start_date", "working_days"]
    list_filter = ["status"]
    search_fields = ["title", "client_organisation", "slug"]
    raw_id_fields = ["framework"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request: HttpRequest, obj: Engagement | None = None) -> bool:
        # An engagement with evidence is archived, never deleted (Engagement.deletion_refusal).
        if obj is not None and obj.deletion_refusal():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Engagement]) -> None:
        refusals = [refusal for e in queryset if (refusal := e.deletion_refusal())]
        if refusals:
            for refusal in refusals:
                messages.error(request, refusal)
            return
        super().delete_queryset(request, queryset)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "engagement", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "engagement"]
    raw_id_fields = ["user", "engagement"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "engagement", "role", "created_at", "expires_at", "accepted_at"]
    list_select_related = ["engagement"]
    exclude = ["token"]  # a bearer secret: not shown, not edited
    raw_id_fields = ["engagement", "invited_by"]


@admin.register(DayNote)
class DayNoteAdmin(admin.ModelAdmin):
    list_display = ["engagement", "day_number", "updated_at"]
    list_select_related = ["engagement"]


class EvidenceAdmin(admin.ModelAdmin):
    """Evidence is shown, never edited or deleted here: the database refuses both anyway
    (workshops migration 0009), and this keeps the admin from offering what would fail."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(EvidenceAdmin):
    list_display = ["created_at", "engagement", "actor", "verb", "summary"]
    list_select_related = ["engagement", "actor"]
    list_filter = ["verb"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["version", "engagement", "state", "submitted_at", "signed_off_at"]
    list_select_related = ["version", "engagement"]


@admin.register(ReviewEvent, Comment, CommentResolution, Approval, RequiredApprover)
class ReviewEvidenceAdmin(EvidenceAdmin):
    pass


@admin.register(SignoffRecord)
class SignoffRecordAdmin(EvidenceAdmin):
    list_display = ["created_at", "engagement", "review", "sha256"]
    list_select_related = ["engagement", "review__version"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(EvidenceAdmin):
    list_display = ["engagement", "sequence", "kind", "object_id", "entry_hash", "created_at"]
    list_select_related = ["engagement"]
    list_filter = ["kind"]


# An over-long username must be a message, not a row django-axes cannot store (see LoginForm).
admin.site.login_form = AdminLoginForm
