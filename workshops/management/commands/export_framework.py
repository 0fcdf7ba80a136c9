"""`manage.py export_framework SLUG`: print an engagement's framework document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalation.document import export_text
from workshops.models import Engagement


class Command(BaseCommand):
    help = "Print the framework document (JSON) of the engagement SLUG."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        engagement = Engagement.objects.select_related("framework").filter(slug=slug).first()
        if engagement is None:
            raise CommandError(f"No engagement with slug {slug!r}.")
        self.stdout.write(
            export_text(engagement.draft_document()),
            ending="",
        )
