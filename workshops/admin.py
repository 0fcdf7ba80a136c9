"""Staff see every engagement here; members see only theirs in the app."""

from django.contrib import admin
from django.http import HttpRequest

from workshops.forms import AdminLoginForm
from workshops.models import (
    Activity,
    Approval,
    Comment,
    DayNote,
    Engagement,
    Invitation,
    Membership,
    Review,
    ReviewEvent,
)


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


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "engagement", "actor", "verb", "summary"]
    list_select_related = ["engagement", "actor"]
    list_filter = ["verb"]

    def has_change_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False  # the audit trail is not edited


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["version", "engagement", "state", "submitted_at", "signed_off_at"]
    list_select_related = ["version", "engagement"]


admin.site.register(ReviewEvent)
admin.site.register(Comment)
admin.site.register(Approval)

# An over-long username must be a message, not a row django-axes cannot store (see LoginForm).
admin.site.login_form = AdminLoginForm
