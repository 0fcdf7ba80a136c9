"""`manage.py export_pack SLUG --version N -o FILE`: the PDF pack from the command line.

The same path as the pack page: the engagement's data gathered by `workshops.packs` and rendered by
`escalation.pdf.build_pack`. A signed-off version's pack is the one stored signed pack (the same
bytes the pack page hands out). Without --version it exports the working draft.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from escalation.diagram import DiagramError
from escalation.pdf import build_pack
from workshops.models import Engagement
from workshops.packs import artifact_source, pack_context, signed_pack


class Command(BaseCommand):
    help = "Write the PDF pack of an engagement's framework version (or working draft) to a file."

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        # Here --version names the framework version to export, not Django's version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--version", dest="number", type=int, help="Version number; default: the working draft."
        )
        parser.add_argument("-o", "--output", required=True, help="The PDF file to write.")

    def handle(
        self, *args: object, slug: str, number: int | None, output: str, **options: object
    ) -> None:
        engagement = Engagement.objects.select_related("framework").filter(slug=slug).first()
        if engagement is None:
            raise CommandError(f"No engagement {slug!r}.")
        try:
            source = artifact_source(engagement, number)
        except Http404 as error:
            raise CommandError(f"{slug} has no version {number}.") from error
        if source.signed_off:
            # The stored signed pack, byte for byte: never a second signature over fresh data.
            pack = signed_pack(source)
            if pack.pdf is None:
                raise CommandError(f"The signed pack of {source.label} is still being generated.")
            pdf = bytes(pack.pdf)
        else:
            try:
                pdf = build_pack(source.document, pack_context(source))
            except DiagramError as error:
                raise CommandError(str(error)) from error
        Path(output).write_bytes(pdf)
        signed = "signed" if source.signed_off else "DRAFT, not signed"
        self.stdout.write(f"Wrote {output} ({source.label}, {signed}, {len(pdf):,} bytes)")
