from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


class ConfigConfig(AppConfig):
    """Wiring only: no models; registers the environment checks with Django's check framework,
    and creates the database cache's table after every `migrate` (make, compose, the suite)."""

    name = "config"

    def ready(self) -> None:
        from config import preflight  # noqa: F401  (registers the system checks)

        # Not sent for `config` itself (it has no models): sent per app, the table made once.
        post_migrate.connect(create_cache_table, dispatch_uid="create_cache_table")


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """`createcachetable` skips an existing table and a cache outside the database."""
    call_command("createcachetable", database=using, verbosity=0)
