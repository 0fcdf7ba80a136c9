from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("workshops.urls")),
    path("e/<slug:slug>/", include("escalation.urls")),
]

handler500 = "config.errors.server_error"
