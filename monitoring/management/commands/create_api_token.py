"""`manage.py create_api_token SLUG --name NAME`: a new API token of the engagement, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.models import ApiToken
from workshops.audit import AuditVerb, record_activity
from workshops.models import Engagement


class Command(BaseCommand):
    help = "Create an API token that sends metric points to one engagement, and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True, help="What will send with it.")

    def handle(self, *args: Any, slug: str, name: str, **options: Any) -> None:
        engagement = Engagement.objects.filter(slug=slug).first()
        if engagement is None:
            raise CommandError(f"No engagement {slug!r}.")
        name = name.strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise CommandError("Give the token a name of 1–100 printable characters.")
        token, secret = ApiToken.issue(engagement, name)
        record_activity(
            engagement,
            None,
            AuditVerb.API_TOKEN_CREATED,
            f"Created the API token “{token.name}” ({token.prefix}…) from the shell",
            anchor=f"api-tokens/{token.public_id}",
        )
        self.stderr.write(f"API token “{name}” for {slug} (shown once; only its hash is kept):")
        self.stdout.write(secret)
