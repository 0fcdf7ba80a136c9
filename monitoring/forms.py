"""Forms of the live pages: naming a new API token and uploading a CSV of points."""

from __future__ import annotations

from django import forms

from escalation.text import SafeTextForm

# A CSV upload is read whole into memory: the request limit (2 MB) holds it.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ApiTokenForm(SafeTextForm, forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will send with it, e.g. production OpenTelemetry."
    )


class PointsUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV of metric points",
        help_text="Header: time,ai_system,output_type,metric,value,sample_size",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 2 MB: send it in parts, or use the API.")
        return bytes(upload.read())
