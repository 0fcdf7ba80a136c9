from django.urls import path

from monitoring import views

urlpatterns = [
    path("e/<slug:slug>/live/", views.live, name="live"),
    path("e/<slug:slug>/live/upload/", views.upload_points, name="live_upload"),
    path("e/<slug:slug>/live/evaluate/", views.reevaluate, name="live_evaluate"),
    path("e/<slug:slug>/live/tokens/", views.api_tokens, name="api_tokens"),
    path(
        "e/<slug:slug>/live/tokens/<uuid:token_id>/revoke/",
        views.revoke_api_token,
        name="api_token_revoke",
    ),
    # The metric API: a bearer token of the engagement, no session (see monitoring.views).
    path("api/e/<slug:slug>/metrics", views.api_metrics, name="api_metrics"),
    path("api/e/<slug:slug>/otlp/v1/metrics", views.api_otlp_metrics, name="api_otlp_metrics"),
]
