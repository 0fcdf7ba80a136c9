from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from workshops.forms import LoginForm

urlpatterns = [
    # Django's login view with a form that refuses over-long usernames (see LoginForm).
    path("accounts/login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("workshops.urls")),
    path("", include("monitoring.urls")),
]

handler400 = "config.errors.bad_request"
handler500 = "config.errors.server_error"
