"""Reading a framework document: the import side of `escalation.document`.

Reading (`read_document`) is strict: a document is checked whole (types, the models' own validators
and constraints, unique keys and names, references by key, size and depth) and refused with every
problem named by its place ("thresholds[3].ai_system: no ai system with key 'x'"), or written in one
transaction as a new Framework. Items get their list index as position, so export → import →
export gives the same bytes. Version 1 documents are upgraded (`upgrade_document`) before checking.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from escalation.document import COLLECTIONS, SCHEMA_VERSION, upgrade_document
from escalation.models import Framework
from escalation.text import date_refusal, refusal, visible

# Reading: the import side. A document is checked whole before anything is written, and written in
# one transaction, so a bad file leaves nothing behind.

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_ITEMS_PER_COLLECTION = 2000
MAX_DEPTH = 5  # document → collection → item → list field → value; anything deeper is not ours
MAX_PROBLEMS_LISTED = 50
MAX_WORKING_DAYS = 365

# Where each collection sits in the document: (path, top-level key, key inside it or None).
COLLECTION_PLACES = {
    "ai_systems": ("ai_systems", None),
    "thresholds": ("thresholds", None),
    "bounds": ("bounds", None),
    "failure_modes": ("failure_modes", None),
    "levels": ("levels", None),
    "drift_triggers": ("review_cycle", "drift_triggers"),
    "external_triggers": ("review_cycle", "external_triggers"),
    "cadences": ("review_cycle", "cadences"),
    "sunset_rules": ("review_cycle", "sunset_rules"),
}
TOP_LEVEL_KEYS = {
    "schema_version",
    "name",
    "working_days",
    "ai_systems",
    "thresholds",
    "bounds",
    "failure_modes",
    "levels",
    "governance",
    "review_cycle",
}
# The framework's governance fields, named alike in the document and the model.
GOVERNANCE_KEYS = ["scope_creep_rule", "currency", "overrun_rule"]
REVIEW_CYCLE_KEYS = {
    "cadences",
    "sunset_criteria",
    "sunset_rules",
    "drift_triggers",
    "external_triggers",
}
# Reference fields: collection → {field: (referenced collection, many)}.
REFERENCES = {
    "ai_systems": {"current_level": ("levels", False), "unavailable_levels": ("levels", True)},
    "thresholds": {"ai_system": ("ai_systems", False)},
    "bounds": {"threshold": ("thresholds", False), "escalates_to": ("levels", True)},
    "failure_modes": {
        "recommended_level": ("levels", False),
        "then_levels": ("levels", True),
        "applies_to": ("ai_systems", True),
        "detected_by": ("bounds", True),
    },
    "drift_triggers": {"ai_system": ("ai_systems", False)},
    "external_triggers": {"ai_systems": ("ai_systems", True)},
    "sunset_rules": {"levels": ("levels", True)},
}
# Names that must be unique within a collection (mirroring the UniqueConstraints).
UNIQUE_FIELDS = {
    "ai_systems": ["key", "name"],
    "thresholds": ["key"],
    "bounds": ["key"],
    "failure_modes": ["key", "name"],
    "levels": ["key", "name"],
    "drift_triggers": ["key"],
    "external_triggers": ["key"],
    "cadences": ["key", "name"],
    "sunset_rules": ["key"],
}


class DocumentError(ValueError):
    """The document cannot be imported; `problems` name each place ("thresholds[3].ai_system: ...")."""

    def __init__(self, problems: list[str]) -> None:
        listed = problems[:MAX_PROBLEMS_LISTED]
        if len(problems) > len(listed):
            listed.append(f"... and {len(problems) - len(listed)} more problems")
        # A problem quotes the document (a key, a value): shown on a page, it must be printable.
        self.problems = [visible(problem) for problem in listed]
        super().__init__("; ".join(self.problems))


def parse_document_text(text: str | bytes) -> Any:
    """The JSON value of an uploaded file, refusing oversized or deeply nested input up front."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise DocumentError([f"file: larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"])
    try:
        data = json.loads(text)
    except RecursionError:
        raise DocumentError(["file: nested too deeply"]) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise DocumentError([f"file: not valid JSON ({error})"]) from None
    if _depth(data) > MAX_DEPTH:
        raise DocumentError([f"file: nested deeper than a framework document ({MAX_DEPTH} levels)"])
    return data


def _depth(value: Any) -> int:
    # Iterative, so a hostile document cannot exhaust the stack here either.
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = current.values() if isinstance(current, dict) else current
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _json_type(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _field_value(field: Any, value: Any, place: str, problems: list[str]) -> Any:
    """The model value for one document value, checked for type; None on a problem."""
    if value is None:
        if not field.null:
            problems.append(f"{place}: must not be null")
        return None
    if isinstance(field, ArrayField):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{place}: expected a list of text, got {_json_type(value)}")
            return None
        if message := next((refusal(v) for v in value if refusal(v)), ""):
            problems.append(f"{place}: {message}")
            return None
        return list(value)
    if isinstance(field, models.DecimalField):
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"{place}: expected a decimal written as text, got {_json_type(value)}")
            return None
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            problems.append(f"{place}: {value!r} is not a decimal number")
            return None
        if not number.is_finite():
            problems.append(f"{place}: {value!r} is not a finite number")
            return None
        return number
    if isinstance(field, models.IntegerField):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{place}: expected a whole number, got {_json_type(value)}")
            return None
        return value
    if isinstance(field, models.DateField):
        try:
            day = datetime.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        else:
            if day is not None and (message := date_refusal(day)):
                problems.append(f"{place}: {message}")
                return None
            return day
        problems.append(f"{place}: expected a date as YYYY-MM-DD, got {value!r}"[:200])
        return None
    if not isinstance(value, str):
        problems.append(f"{place}: expected text, got {_json_type(value)}")
        return None
    # The same rule as every form: no control characters (a long text keeps line breaks and
    # tabs) and no lone surrogates, which JSON can carry as escapes but no column can store.
    if message := refusal(value, multiline=isinstance(field, models.TextField)):
        problems.append(f"{place}: {message}")
        return None
    return value


def _object(value: Any, place: str, keys: set[str], problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.append(f"{place}: expected an object, got {_json_type(value)}")
        return None
    for missing in sorted(keys - value.keys()):
        problems.append(f"{place}.{missing}: missing")
    for unknown in sorted(value.keys() - keys):
        problems.append(f"{place}.{str(unknown)[:60]}: not a field of this document")
    return value


def _check_instance(
    instance: Any,
    place: str,
    exclude: list[str],
    problems: list[str],
    places: dict[str, str] | None = None,
) -> None:
    """Field validators, blank/choices/length checks and the model's clean(): the same rules the
    forms and the database enforce, with their human messages. `places` maps a model field to
    where it sits in the document, when that is not `place.field`."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                where = (places or {}).get(field) or (
                    place if field == "__all__" else f"{place}.{field}"
                )
                problems.append(f"{where}: {message}")


# Where the framework's own fields sit in the document.
FRAMEWORK_PLACES = {
    "name": "name",
    "scope_creep_rule": "governance.scope_creep_rule",
    "currency": "governance.currency",
    "overrun_rule": "governance.overrun_rule",
    "sunset_criteria": "review_cycle.sunset_criteria",
}


class _DocumentImporter:
    """Checks a whole document into unsaved instances, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.items: dict[str, list[tuple[Any, dict[str, Any]]]] = {}

    def read(self, data: Any) -> Framework | None:
        document = _object(upgrade_document(data), "document", TOP_LEVEL_KEYS, self.problems)
        if document is None:
            return None
        version = document.get("schema_version")
        if type(version) is not int or version != SCHEMA_VERSION:  # not True, not 1.0
            got = repr(version)[:60]
            self.problems.append(f"schema_version: expected 1 or {SCHEMA_VERSION}, got {got}")
            return None
        working_days = document.get("working_days")
        if working_days is not None and (
            type(working_days) is not int or not 1 <= working_days <= MAX_WORKING_DAYS
        ):
            self.problems.append(
                f"working_days: expected a whole number of days from 1 to {MAX_WORKING_DAYS} "
                f"or null, got {repr(working_days)[:60]}"
            )
        framework, review_cycle = self._read_framework(document)
        _check_instance(framework, "document", [], self.problems, FRAMEWORK_PLACES)
        for collection, (outer, inner) in COLLECTION_PLACES.items():
            container = document if inner is None else review_cycle
            if container is None:
                continue
            place = outer if inner is None else f"{outer}.{inner}"
            self._read_collection(collection, place, container.get(inner or outer))
        self._check_references()
        return framework

    def _read_framework(self, document: dict[str, Any]) -> tuple[Framework, dict[str, Any] | None]:
        """The framework's own fields (name, governance, the review cycle's scalars), unsaved,
        and the review cycle object for its trigger collections."""
        framework = Framework()
        name = _field_value(
            Framework._meta.get_field("name"), document.get("name"), "name", self.problems
        )
        framework.name = name or ""
        governance = _object(
            document.get("governance"), "governance", set(GOVERNANCE_KEYS), self.problems
        )
        if governance is not None:
            for key in GOVERNANCE_KEYS:
                value = _field_value(
                    Framework._meta.get_field(key),
                    governance.get(key),
                    f"governance.{key}",
                    self.problems,
                )
                setattr(framework, key, value or "")
        review_cycle = _object(
            document.get("review_cycle"), "review_cycle", REVIEW_CYCLE_KEYS, self.problems
        )
        if review_cycle is not None:
            for field_name, key in [("sunset_criteria", "sunset_criteria")]:
                value = _field_value(
                    Framework._meta.get_field(field_name),
                    review_cycle.get(key),
                    f"review_cycle.{key}",
                    self.problems,
                )
                if value is not None:
                    setattr(framework, field_name, value)
        return framework, review_cycle

    def _read_collection(self, collection: str, place: str, values: Any) -> None:
        model, fields, references = COLLECTIONS[collection]
        self.items[collection] = []
        if not isinstance(values, list):
            self.problems.append(f"{place}: expected a list, got {_json_type(values)}")
            return
        if len(values) > MAX_ITEMS_PER_COLLECTION:
            self.problems.append(f"{place}: more than {MAX_ITEMS_PER_COLLECTION} items")
            return
        seen: dict[str, dict[Any, int]] = {name: {} for name in UNIQUE_FIELDS[collection]}
        for index, value in enumerate(values):
            item_place = f"{place}[{index}]"
            item = _object(value, item_place, set(fields), self.problems)
            if item is None:
                continue
            instance = model(position=index)
            for name in fields:
                if name in references or name not in item:
                    continue
                field_value = _field_value(
                    model._meta.get_field(name), item[name], f"{item_place}.{name}", self.problems
                )
                if field_value is not None:
                    setattr(instance, name, field_value)
            exclude = ["framework", *references]
            _check_instance(instance, item_place, exclude, self.problems)
            for name, earlier in seen.items():
                unique_value = item.get(name)
                if not isinstance(unique_value, str):
                    continue
                if unique_value in earlier:
                    self.problems.append(
                        f"{item_place}.{name}: {unique_value!r} is already used by "
                        f"{place}[{earlier[unique_value]}]"[:300]
                    )
                else:
                    earlier[unique_value] = index
            self.items[collection].append((instance, item))

    def _check_references(self) -> None:
        keys = {
            collection: {
                item["key"]: instance
                for instance, item in items
                if isinstance(item.get("key"), str)
            }
            for collection, items in self.items.items()
        }
        for collection, fields in REFERENCES.items():
            place = ".".join(p for p in COLLECTION_PLACES[collection] if p)
            for index, (instance, item) in enumerate(self.items.get(collection, [])):
                for name, (target, many) in fields.items():
                    where = f"{place}[{index}].{name}"
                    value = item.get(name)
                    if not many:
                        wanted = [value]
                    elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                        self.problems.append(f"{where}: expected a list of keys")
                        continue
                    elif len(set(value)) != len(value):
                        self.problems.append(f"{where}: a key is listed twice")
                        continue
                    else:
                        wanted = value
                    for key in wanted:
                        if key is None and not many and instance._meta.get_field(name).null:
                            continue
                        if not isinstance(key, str) or key not in keys.get(target, {}):
                            self.problems.append(
                                f"{where}: no {target.rstrip('s').replace('_', ' ')} with key {key!r}"[
                                    :300
                                ]
                            )
        pairs: dict[tuple[str, str], int] = {}
        for index, (_instance, item) in enumerate(self.items.get("thresholds", [])):
            pair = (str(item.get("ai_system")), str(item.get("output_type")))
            if pair in pairs:
                self.problems.append(
                    f"thresholds[{index}].output_type: thresholds[{pairs[pair]}] already sets "
                    f"the bounds of {pair[0]!r} for output type {pair[1] or '(all outputs)'!r}"[
                        :300
                    ]
                )
            pairs.setdefault(pair, index)

    def create(self, framework: Framework) -> Framework:
        """Write the checked rows: one bulk insert per collection (PostgreSQL returns the ids)."""
        framework.save()
        by_key: dict[str, dict[str, Any]] = {}
        # Order matters: systems name levels, thresholds systems, bounds thresholds, failure
        # modes levels.
        for collection in [
            "levels",
            "ai_systems",
            "thresholds",
            "bounds",
            "failure_modes",
            "drift_triggers",
            "external_triggers",
            "cadences",
            "sunset_rules",
        ]:
            instances = []
            for instance, item in self.items[collection]:
                instance.framework = framework
                for name, (target, many) in REFERENCES.get(collection, {}).items():
                    if not many:
                        key = item.get(name)
                        setattr(instance, name, by_key[target][key] if key is not None else None)
                instances.append(instance)
            COLLECTIONS[collection][0].objects.bulk_create(instances)
            by_key[collection] = {instance.key: instance for instance in instances}
        # The many-to-many references, one bulk insert per relation.
        for collection, references in REFERENCES.items():
            model = COLLECTIONS[collection][0]
            for name, (target, many) in references.items():
                if not many:
                    continue
                field = model._meta.get_field(name)
                source_column = f"{field.m2m_field_name()}_id"
                target_column = f"{field.m2m_reverse_field_name()}_id"
                field.remote_field.through.objects.bulk_create(
                    field.remote_field.through(
                        **{source_column: instance.pk, target_column: by_key[target][key].pk}
                    )
                    for instance, item in self.items[collection]
                    for key in item[name]
                )
        return framework


def read_document(data: Any) -> Framework:
    """Create a new Framework from a document (a parsed JSON value), or raise DocumentError
    listing every problem; nothing is written unless the whole document is sound."""
    importer = _DocumentImporter()
    framework = importer.read(data)
    if importer.problems or framework is None:
        raise DocumentError(importer.problems or ["document: unreadable"])
    try:
        # All or nothing: a failure halfway would leave a partial framework behind.
        with transaction.atomic():
            return importer.create(framework)
    except IntegrityError as error:  # a rule the checks above missed; the database still refuses
        raise DocumentError([f"document: refused by the database ({error})"[:300]]) from None
