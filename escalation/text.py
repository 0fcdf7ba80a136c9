"""What text may be stored, and how stored text is made safe for one line or for display.

One rule for every form, import and API: no C0/C1 control characters (a long text may keep new
lines and tabs) and no lone surrogates. Such characters cannot be printed, graphviz refuses them,
mail headers and iCalendar break on them and PostgreSQL refuses NUL and surrogates outright.
Frozen versions may already hold them (they were accepted before this rule): renderers pass stored
text through `visible()` so those versions still draw.
"""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError

# C0 controls, DEL and C1 controls, and the surrogate range (only ever lone in a Python str).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Long text keeps line breaks (browsers send CR LF) and tabs.
_UNSAFE_IN_LONG_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Dates every renderer handles: the ten-day plan, review schedules years ahead, iCalendar.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


def character_name(character: str) -> str:
    return f"U+{ord(character):04X}"


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of `value` that must not be stored, or None."""
    match = (_UNSAFE_IN_LONG_TEXT if multiline else _UNSAFE).search(value)
    return match.group() if match else None


def refusal(value: str, *, multiline: bool = False) -> str:
    """Why `value` cannot be stored ("" if it can), in words for the person who typed it."""
    character = unsafe_character(value, multiline=multiline)
    if character is None:
        return ""
    if "\ud800" <= character <= "\udfff":
        return f"Contains an invalid character ({character_name(character)}, a lone surrogate)."
    if character in "\r\n" and not multiline:
        return "Must be a single line: remove the line break."
    return f"Contains a control character ({character_name(character)}) that cannot be printed."


def validate_line(value: str) -> None:
    if message := refusal(value):
        raise ValidationError(message, code="control_character")


def validate_long_text(value: str) -> None:
    if message := refusal(value, multiline=True):
        raise ValidationError(message, code="control_character")


def date_refusal(value: datetime.date) -> str:
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return ""
    return f"Pick a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def validate_date(value: datetime.date) -> None:
    if message := date_refusal(value):
        raise ValidationError(message, code="date_out_of_range")


class SafeTextForm:
    """Mix into every form: each text field refuses control characters and lone surrogates, and
    each date field dates outside what the plan and the renderers handle, with the message
    beside the field. A text area keeps line breaks and tabs; any other text field is one line."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.PasswordInput):
                continue  # a password is never shown or drawn, only hashed
            if isinstance(field, SimpleArrayField):  # a list of short texts: check each item
                # The form's copy of a field shares its base field with the class: copy it too,
                # or every form built would add one more validator to the shared one.
                field.base_field = copy.deepcopy(field.base_field)
                field = field.base_field
            if isinstance(field, forms.CharField):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(validate_long_text if multiline else validate_line)
            elif isinstance(field, forms.DateField):
                field.validators.append(validate_date)


def visible(text: str) -> str:
    """Stored text with any control character (other than new lines and tabs) or lone surrogate
    shown as its code point, so a renderer that would refuse it draws it instead."""
    return _UNSAFE_IN_LONG_TEXT.sub(lambda match: f"[{character_name(match.group())}]", text)


def shortened(text: str, length: int) -> str:
    """`text` cut to `length` characters, an ellipsis marking the cut."""
    return text if len(text) <= length else text[: length - 1] + "…"


def one_line(text: str) -> str:
    """Stored text as one line (a mail subject, a calendar name): whitespace runs collapse to one
    space and other controls show as their code point."""
    return visible(" ".join(str(text).split()))
