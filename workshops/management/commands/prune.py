"""`manage.py prune`: remove what is kept for speed only and no longer needed.

Drawings of the ladder (`DiagramRender`) of neither a frozen version nor a current working draft,
draft packs a newer one supersedes, and the background tasks' results once old (they hold the
mail they sent). Never a signed pack or anything of a frozen version. Run it daily (cron, a
systemd timer, or `docker compose run --rm worker python manage.py prune`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from escalation.pruning import prune_diagrams, prune_packs
from workshops.models import Engagement


class Command(BaseCommand):
    help = "Remove unused ladder drawings, superseded draft packs and old task results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--diagram-age-days",
            type=int,
            default=1,
            help="Spare drawings younger than this (default 1): a page may be showing them.",
        )
        parser.add_argument(
            "--task-age-days",
            type=int,
            default=14,
            help="Remove finished background task results older than this (default 14).",
        )

    def handle(self, *args: Any, diagram_age_days: int, task_age_days: int, **options: Any) -> None:
        drafts = (
            engagement.draft_document()
            for engagement in Engagement.objects.select_related("framework").iterator()
        )
        diagrams = prune_diagrams(drafts, datetime.timedelta(days=diagram_age_days))
        packs = prune_packs()
        call_command(
            "prune_db_task_results",
            "--queue-name=*",
            f"--min-age-days={task_age_days}",
            verbosity=0,
        )
        self.stdout.write(f"Removed {diagrams} ladder drawing(s) and {packs} draft pack(s).")
