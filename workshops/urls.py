from django.urls import path

from workshops import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("e/<slug:slug>/", views.dashboard, name="dashboard"),
]
