from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """The framework live: API tokens, metric intake, evaluation against the signed-off version."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
