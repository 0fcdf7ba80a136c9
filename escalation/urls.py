from django.urls import path

from escalation.views import checks, steps, transfer

# Mounted under e/<slug:slug>/ by config/urls.py.
urlpatterns = [
    path("steps/<str:step_key>/", steps.step, name="step"),
    path("steps/<str:step_key>/settings/", steps.step_settings, name="step_settings"),
    path("steps/<str:step_key>/<str:collection>/add/", steps.step_item_add, name="step_item_add"),
    path(
        "steps/<str:step_key>/<str:collection>/<slug:item_key>/edit/",
        steps.step_item_edit,
        name="step_item_edit",
    ),
    path(
        "steps/<str:step_key>/<str:collection>/<slug:item_key>/delete/",
        steps.step_item_delete,
        name="step_item_delete",
    ),
    path(
        "steps/<str:step_key>/<str:collection>/<slug:item_key>/move/",
        steps.step_item_move,
        name="step_item_move",
    ),
    path("checks/", checks.checks, name="checks"),
    path("framework.json", transfer.framework_json, name="framework_json"),
]
