"""`manage.py import_framework FILE`: create an engagement from a framework document."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalation.document_reader import DocumentError, parse_document_text
from workshops.imports import EngagementDetailsForm, import_engagement

# The form's fields by the options that fill them, to name the option in a refusal.
OPTIONS = {
    "slug": "slug",
    "client_organisation": "client",
    "title": "title",
    "start_date": "start-date",
}


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
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        details = EngagementDetailsForm(
            {
                "slug": options["slug"],
                "client_organisation": options["client"],
                "title": options["title"],
                "start_date": options["start_date"] or "",
            }
        )
        if not details.is_valid():
            raise CommandError(
                "Nothing was created:\n  "
                + "\n  ".join(
                    f"--{OPTIONS[name]}: {' '.join(str(problem) for problem in problems)}"
                    for name, problems in details.errors.items()
                )
            )
        try:
            engagement = import_engagement(parse_document_text(text), **details.cleaned_data)
        except DocumentError as error:
            raise CommandError(
                "The file was refused, nothing was created:\n  " + "\n  ".join(error.problems)
            ) from None
        self.stdout.write(f"Created engagement {engagement.slug!r} ({engagement}).")
