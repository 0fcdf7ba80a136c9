from django.urls import path

from workshops.views import engagements

urlpatterns = [
    path("", engagements.home, name="home"),
    path("healthz", engagements.healthz, name="healthz"),
    path("e/<slug:slug>/", engagements.dashboard, name="dashboard"),
]
