from django.contrib import admin
from django.urls import include, path

from escalation.views import transfer

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("workshops.urls")),
    path("e/<slug:slug>/", include("escalation.urls")),
    path("import/", transfer.import_framework, name="import_framework"),
]

handler500 = "config.errors.server_error"
