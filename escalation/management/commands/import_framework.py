"""`manage.py import_framework FILE`: create an engagement from a framework document."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalation.document import DocumentError, parse_document_text


class Command(BaseCommand):
    help = "Create a new engagement whose framework is read from FILE (a framework document)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A JSON file written by export_framework (- for stdin).")
        parser.add_argument("--slug", default="", help="Default: from the framework's name.")
        parser.add_argument("--client", default="", help="Default: the framework's name.")
        parser.add_argument("--title", default="", help="Default: '<name> (imported)'.")
        parser.add_argument(
            "--start-date",
            type=datetime.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD; default: next Monday.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The one place escalation reaches into workshops: the import creates an engagement.
        from workshops.imports import import_engagement
        from workshops.models import Engagement

        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        if options["slug"] and Engagement.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"An engagement with slug {options['slug']!r} exists already.")
        try:
            engagement = import_engagement(
                parse_document_text(text),
                slug=options["slug"],
                client_organisation=options["client"],
                title=options["title"],
                start_date=options["start_date"],
            )
        except DocumentError as error:
            raise CommandError(
                "The file was refused, nothing was created:\n  " + "\n  ".join(error.problems)
            ) from None
        self.stdout.write(f"Created engagement {engagement.slug!r} ({engagement}).")
