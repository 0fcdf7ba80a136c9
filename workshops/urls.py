from collections.abc import Callable

from django.http import HttpResponse
from django.urls import path

from workshops.views import (
    artifacts,
    audit,
    checks,
    days,
    engagements,
    people,
    reviews,
    steps,
    transfer,
)

urlpatterns = [
    path("", engagements.home, name="home"),
    path("healthz", engagements.healthz, name="healthz"),
    path("e/<slug:slug>/", engagements.dashboard, name="dashboard"),
    path("engagements/new/", engagements.new_engagement, name="engagement_new"),
    path("e/<slug:slug>/settings/", engagements.engagement_settings, name="engagement_settings"),
    path("e/<slug:slug>/status/", engagements.engagement_status, name="engagement_status"),
    path("e/<slug:slug>/next/", engagements.next_actions_list, name="next_actions"),
    path("e/<slug:slug>/days/", days.days, name="days"),
    path("e/<slug:slug>/days/current/", days.current_day, name="current_day"),
    path("e/<slug:slug>/days/<int:number>/", days.day, name="day"),
    path("e/<slug:slug>/days/<int:number>/notes/", days.day_notes, name="day_notes"),
    path("e/<slug:slug>/people/", people.people, name="people"),
    path("e/<slug:slug>/people/invite/", people.invite, name="invite"),
    path("e/<slug:slug>/people/<str:username>/role/", people.change_role, name="change_role"),
    path("e/<slug:slug>/people/<str:username>/remove/", people.remove_member, name="remove_member"),
    path("e/<slug:slug>/people/signoff/", people.signoff_rule, name="signoff_rule"),
    path(
        "e/<slug:slug>/people/invitations/<int:invitation_id>/cancel/",
        people.cancel_invitation,
        name="cancel_invitation",
    ),
    path(
        "e/<slug:slug>/people/invitations/<int:invitation_id>/resend/",
        people.resend_invitation,
        name="resend_invitation",
    ),
    path("invitations/<str:token>/", people.accept_invitation, name="accept_invitation"),
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
    path("e/<slug:slug>/audit/", audit.audit_trail, name="audit"),
]

# The step editors, the consistency checks, and starting an engagement from a framework file.
urlpatterns += [
    path("import/", transfer.import_framework, name="import_framework"),
    path("e/<slug:slug>/steps/<str:step_key>/", steps.step, name="step"),
    path("e/<slug:slug>/steps/<str:step_key>/settings/", steps.step_settings, name="step_settings"),
    path(
        "e/<slug:slug>/steps/<str:step_key>/<str:collection>/add/",
        steps.step_item_add,
        name="step_item_add",
    ),
    path(
        "e/<slug:slug>/steps/<str:step_key>/<str:collection>/<slug:item_key>/edit/",
        steps.step_item_edit,
        name="step_item_edit",
    ),
    path(
        "e/<slug:slug>/steps/<str:step_key>/<str:collection>/<slug:item_key>/delete/",
        steps.step_item_delete,
        name="step_item_delete",
    ),
    path(
        "e/<slug:slug>/steps/<str:step_key>/<str:collection>/<slug:item_key>/move/",
        steps.step_item_move,
        name="step_item_move",
    ),
    path("e/<slug:slug>/checks/", checks.checks, name="checks"),
]

# The artifacts, for the working draft (e/<slug>/artifacts/...) and for each frozen version
# (e/<slug>/versions/<number>/artifacts/...): the same views, `number` absent for the draft.
_ARTIFACT_ROUTES: list[tuple[str, Callable[..., HttpResponse], str, dict[str, str]]] = [
    ("", artifacts.artifacts_page, "artifacts", {}),
    ("ladder.svg", artifacts.ladder_download, "ladder_svg", {"format": "svg"}),
    ("ladder.png", artifacts.ladder_download, "ladder_png", {"format": "png"}),
    ("threshold-register.csv", artifacts.register_csv, "register_csv", {}),
    ("failure-mode-matrix.csv", artifacts.matrix_csv, "matrix_csv", {}),
    ("ladder-governance.csv", artifacts.ladder_csv, "ladder_csv", {}),
    ("review-protocol.csv", artifacts.review_cycle_csv, "review_cycle_csv", {}),
    ("reviews.ics", artifacts.review_cycle_ics, "review_cycle_ics", {}),
    ("framework.json", artifacts.framework_json, "document_json", {}),
    ("pack/", artifacts.pack_page, "pack", {}),
    ("pack/generate", artifacts.generate_pack, "pack_generate", {}),
]
for _suffix, _view, _name, _kwargs in _ARTIFACT_ROUTES:
    urlpatterns += [
        path(f"e/<slug:slug>/artifacts/{_suffix}", _view, _kwargs, name=_name),
        path(
            f"e/<slug:slug>/versions/<int:number>/artifacts/{_suffix}",
            _view,
            _kwargs,
            name=f"version_{_name}",
        ),
    ]
# Deploy-ready monitoring files exist only for a signed-off version.
urlpatterns.append(
    path(
        "e/<slug:slug>/versions/<int:number>/artifacts/monitoring/<str:filename>",
        artifacts.monitoring_file,
        name="version_monitoring_file",
    )
)
urlpatterns.append(
    path(
        "e/<slug:slug>/packs/<uuid:public_id>.pdf",
        artifacts.pack_download,
        name="pack_download",
    )
)
# The draft's framework document under its older address: the same download as
# artifacts/framework.json (document_json), the one the README documents.
urlpatterns.append(
    path("e/<slug:slug>/framework.json", artifacts.framework_json, name="framework_json")
)
