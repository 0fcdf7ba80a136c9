"""`manage.py export_monitoring SLUG --version N -o DIR`: the deploy-ready monitoring files of a
signed-off version (docs/monitoring-exports.md): prometheus-rules.yml, prometheus-rules.test.yml,
openslo.yaml and, where a level routes, litellm.yaml. The same bytes as the artifacts page's
downloads of that version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from escalation.exports import monitoring_files
from workshops.models import Engagement
from workshops.packs import artifact_source, monitoring_stamp


class Command(BaseCommand):
    help = "Write the monitoring files (Prometheus, OpenSLO, LiteLLM) of a signed-off version."

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        # Here --version names the framework version to export, not Django's version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--version", dest="number", type=int, required=True, help="A signed-off version."
        )
        parser.add_argument("-o", "--output", required=True, help="The directory to write to.")

    def handle(self, *args: object, slug: str, number: int, output: str, **options: object) -> None:
        engagement = Engagement.objects.select_related("framework").filter(slug=slug).first()
        if engagement is None:
            raise CommandError(f"No engagement {slug!r}.")
        try:
            source = artifact_source(engagement, number)
        except Http404 as error:
            raise CommandError(f"{slug} has no version {number}.") from error
        if not source.signed_off:
            raise CommandError(
                f"{source.label} of {slug} is not signed off ({source.status.lower()}): "
                "monitoring files are exported only from a signed-off version."
            )
        directory = Path(output)
        directory.mkdir(parents=True, exist_ok=True)
        files = monitoring_files(source.document, monitoring_stamp(source))
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {directory / name}")
        self.stdout.write(f"{len(files)} files of {source.label} ({source.sha256[:12]}…).")
