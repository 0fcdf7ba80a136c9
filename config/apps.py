from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Wiring only: no models; registers the environment checks with Django's check framework."""

    name = "config"

    def ready(self) -> None:
        from config import preflight  # noqa: F401  (registers the system checks)
