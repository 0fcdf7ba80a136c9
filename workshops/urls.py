from django.urls import path

from workshops.views import engagements, reviews

urlpatterns = [
    path("", engagements.home, name="home"),
    path("healthz", engagements.healthz, name="healthz"),
    path("e/<slug:slug>/", engagements.dashboard, name="dashboard"),
    # Versions, review and sign-off, and the audit trail.
    path("e/<slug:slug>/versions/", reviews.version_list, name="versions"),
    path("e/<slug:slug>/versions/freeze/", reviews.version_freeze, name="version_freeze"),
    path("e/<slug:slug>/versions/compare/", reviews.version_compare, name="version_compare"),
    path("e/<slug:slug>/versions/<int:number>/", reviews.version_detail, name="version_detail"),
    path(
        "e/<slug:slug>/versions/<int:number>/submit/",
        reviews.version_submit,
        name="version_submit",
    ),
    path(
        "e/<slug:slug>/versions/<int:number>/withdraw/",
        reviews.version_withdraw,
        name="version_withdraw",
    ),
    path(
        "e/<slug:slug>/versions/<int:number>/approve/",
        reviews.version_approve,
        name="version_approve",
    ),
    path(
        "e/<slug:slug>/versions/<int:number>/request-changes/",
        reviews.version_request_changes,
        name="version_request_changes",
    ),
    path(
        "e/<slug:slug>/versions/<int:number>/comments/",
        reviews.version_comment,
        name="version_comment",
    ),
    path(
        "e/<slug:slug>/versions/<int:number>/comments/<int:comment_id>/resolve/",
        reviews.comment_resolve,
        name="comment_resolve",
    ),
    path("e/<slug:slug>/audit/", reviews.audit_trail, name="audit"),
]
