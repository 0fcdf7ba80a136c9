from django.urls import path

from monitoring import views

urlpatterns = [
    path("e/<slug:slug>/live/", views.live, name="live"),
    path(
        "e/<slug:slug>/live/windows/<str:kind>/<str:ai_system>/<str:key>/",
        views.live_windows,
        name="live_windows",
    ),
    path("e/<slug:slug>/live/upload/", views.upload_points, name="live_upload"),
    path("e/<slug:slug>/live/evaluate/", views.reevaluate, name="live_evaluate"),
    path("e/<slug:slug>/live/tokens/", views.api_tokens, name="api_tokens"),
    path(
        "e/<slug:slug>/live/tokens/<uuid:token_id>/revoke/",
        views.revoke_api_token,
        name="api_token_revoke",
    ),
    path("e/<slug:slug>/live/events/", views.record_external_event, name="live_external_event"),
    path("e/<slug:slug>/live/cases/<uuid:case_id>/", views.case_detail, name="case_detail"),
    # One view records every decision on a case; each has its own URL and name.
    *(
        path(
            f"e/<slug:slug>/live/cases/<uuid:case_id>/{decision.replace('_', '-')}/",
            views.case_decision,
            {"decision": decision},
            name=f"case_{decision}",
        )
        for decision in views.DECISIONS
    ),
    # The metric API: a bearer token of the engagement, no session (see monitoring.views).
    path("api/e/<slug:slug>/metrics", views.api_metrics, name="api_metrics"),
    path("api/e/<slug:slug>/otlp/v1/metrics", views.api_otlp_metrics, name="api_otlp_metrics"),
    path("api/e/<slug:slug>/cases", views.api_cases, name="api_cases"),
]
