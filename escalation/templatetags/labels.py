"""`{% field_label "Threshold" "latency_limit_ms" %}`: a table heading from the model field's
verbose_name, the one home of field labels (see escalation.models.field_label)."""

from __future__ import annotations

from django import template
from django.apps import apps

from escalation.models import field_label as _field_label

register = template.Library()


@register.simple_tag
def field_label(model_name: str, field_name: str) -> str:
    return _field_label(apps.get_model("escalation", model_name), field_name)
