from django.urls import path

from workshops.views import days, engagements, people

urlpatterns = [
    path("", engagements.home, name="home"),
    path("healthz", engagements.healthz, name="healthz"),
    path("e/<slug:slug>/", engagements.dashboard, name="dashboard"),
    path("engagements/new/", engagements.new_engagement, name="engagement_new"),
    path("e/<slug:slug>/settings/", engagements.engagement_settings, name="engagement_settings"),
    path("e/<slug:slug>/status/", engagements.engagement_status, name="engagement_status"),
    path("e/<slug:slug>/days/", days.days, name="days"),
    path("e/<slug:slug>/days/current/", days.current_day, name="current_day"),
    path("e/<slug:slug>/days/<int:number>/", days.day, name="day"),
    path("e/<slug:slug>/days/<int:number>/notes/", days.day_notes, name="day_notes"),
    path("e/<slug:slug>/people/", people.people, name="people"),
    path("e/<slug:slug>/people/invite/", people.invite, name="invite"),
    path("e/<slug:slug>/people/<str:username>/role/", people.change_role, name="change_role"),
    path("e/<slug:slug>/people/<str:username>/remove/", people.remove_member, name="remove_member"),
    path("invitations/<str:token>/", people.accept_invitation, name="accept_invitation"),
]
