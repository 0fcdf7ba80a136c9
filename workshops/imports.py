"""A new engagement from a framework document: the upload page and `manage.py import_framework`
share this, so both validate the same way and create the same rows."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db import transaction
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import slugify

from escalation.document import SCHEMA_VERSION, upgrade_document
from escalation.document_reader import DocumentError, parse_document_text, read_document
from escalation.text import SafeTextForm
from workshops.audit import AuditVerb, record_activity
from workshops.models import Engagement


def free_engagement_slug(wanted: str) -> str:
    base = slugify(wanted)[:50].strip("-") or "imported"
    slug, number = base, 1
    while Engagement.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def next_monday(today: datetime.date | None = None) -> datetime.date:
    today = today or datetime.date.today()
    return today + datetime.timedelta(days=(7 - today.weekday()) % 7 or 7)


@transaction.atomic  # the framework and the engagement that owns it exist together or not at all
def import_engagement(
    data: Any,
    *,
    slug: str = "",
    client_organisation: str = "",
    title: str = "",
    start_date: datetime.date | None = None,
    facilitator: Any = None,
) -> Engagement:
    """Create a framework from a parsed document (DocumentError if it is refused) and an
    engagement that owns it; `facilitator`, if given, becomes its facilitator."""
    # The document carries its engagement's working length, so the plan travels with it.
    working_days = upgrade_document(data).get("working_days") if isinstance(data, dict) else None
    if working_days is not None and not (type(working_days) is int and 5 <= working_days <= 10):
        raise DocumentError(
            [f"working_days: an engagement runs 5 to 10 working days, got {working_days!r}"[:200]]
        )
    framework = read_document(data)
    engagement = Engagement(
        slug=slug or free_engagement_slug(framework.name),
        client_organisation=client_organisation or framework.name,
        # The name may fill its 200 characters; the title has no more room than that.
        title=title or f"{framework.name[:189]} (imported)",
        start_date=start_date or next_monday(),
    )
    if working_days is not None:
        engagement.working_days = working_days
    engagement.open_for(facilitator, framework=framework)
    record_activity(
        engagement,
        facilitator,
        AuditVerb.IMPORTED,
        f"Started from the framework file “{framework.name}”",
    )
    return engagement


class EngagementDetailsForm(SafeTextForm, forms.Form):
    """What the new engagement is called and when it starts; blank fields come from the file.
    The upload page and the command both check these, so neither creates a broken engagement."""

    slug = forms.SlugField(
        max_length=60,
        required=False,
        help_text="Web address of the new engagement; blank: from the name.",
    )
    client_organisation = forms.CharField(max_length=200, required=False, label="Client")
    title = forms.CharField(max_length=200, required=False)
    start_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: next Monday.",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug and Engagement.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"An engagement at “{slug}” exists already: pick another.")
        return slug


# What browsers send for a .json file; octet-stream is what they send when they do not know.
JSON_CONTENT_TYPES = {"application/json", "text/json", "application/octet-stream"}


class ImportEngagementForm(EngagementDetailsForm):
    file = forms.FileField(
        label="Framework file (JSON)",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        help_text="A .json file of at most 2 MB.",
    )
    field_order = [
        "file",
        "client_organisation",
        "title",
        "slug",
        "start_date",
    ]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".json") or upload.content_type not in (
            JSON_CONTENT_TYPES
        ):
            raise forms.ValidationError(
                "Upload a framework document: a .json file (application/json), "
                "as downloaded from an engagement."
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                "a framework document is far smaller."
            )
        try:
            self.document = parse_document_text(upload.read(MAX_UPLOAD_BYTES + 1))
        except DocumentError as error:
            raise forms.ValidationError(in_plain_words(error.problems)) from None
        return upload


MAX_UPLOAD_BYTES = 2 * 1024 * 1024


# What each part of a framework document is called by the people who upload one.
_PART_NAMES = {
    "ai_systems": "AI systems list",
    "thresholds": "thresholds list",
    "failure_modes": "failure modes list",
    "levels": "escalation ladder (its levels list)",
    "governance": "governance section",
    "review_cycle": "review cycle section",
    "name": "framework name",
    "schema_version": "format version",
}


def in_plain_words(problems: list[str]) -> list[SafeString]:
    """The document reader's problems ("document.ai_systems: missing") in the words of the
    person uploading ("The file has no AI systems list."), the technical place in small print.
    A file from a newer version says so first: everything else follows from it."""
    ordered = sorted(problems, key=lambda problem: not problem.startswith("schema_version:"))
    return [
        format_html('{} <small class="muted">({})</small>', _plain(problem), problem)
        for problem in ordered
    ]


def _plain(problem: str) -> str:
    place, _, detail = problem.partition(": ")
    if place == "file" and detail.startswith("not valid JSON"):
        return "This is not a JSON file, or it is damaged."
    if place == "file":
        return f"The file cannot be read: {detail}."
    if place == "document" and detail.startswith("expected an object"):
        return "This JSON file is not a framework document."
    if place == "schema_version":
        got = detail.rpartition("got ")[2]
        if got.isdigit() and int(got) > SCHEMA_VERSION:
            return (
                "This is a framework file from a newer version of Escalation Workshop: "
                "this site cannot read it yet."
            )
        return "This file does not say which framework format it follows."
    part = place.removeprefix("document.")
    if detail == "missing" and "." not in part:
        return f"The file has no {_PART_NAMES.get(part, part.replace('_', ' '))}."
    if detail == "not a field of this document":
        return f"The file holds “{place.rpartition('.')[2]}”, which a framework document has not."
    return f"Something in the file is not right: {detail}."
