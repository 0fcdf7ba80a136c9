"""The portable format: export → import → export is byte-identical, a broken file is refused whole
with messages naming the place, and the commands and pages that write and read it."""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation.demo_framework import fill_demo_framework
from escalation.document import build_document, export_text
from escalation.document_reader import DocumentError, parse_document_text, read_document
from escalation.large_framework import fill_large_framework
from escalation.models import Framework
from tests.framework_content import make_framework
from workshops.models import Engagement, Membership, Role

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 13)


@pytest.fixture
def demo_document():
    framework = make_framework(name="Northwind framework")
    fill_demo_framework(framework, END)
    return build_document(framework)


def refused(document):
    count = Framework.objects.count()
    with pytest.raises(DocumentError) as error:
        read_document(document)
    assert Framework.objects.count() == count, "a refused document created a framework"
    return error.value.problems


def test_demo_export_import_export_is_byte_identical(demo_document):
    again = build_document(read_document(json.loads(export_text(demo_document))))
    assert export_text(again).encode() == export_text(demo_document).encode()


def test_large_export_import_export_is_byte_identical(db):
    framework = make_framework(name="Large")
    fill_large_framework(framework)
    first = export_text(build_document(framework))
    second = export_text(build_document(read_document(json.loads(first))))
    assert first.encode() == second.encode()


def test_wrong_schema_version_is_refused(demo_document):
    demo_document["schema_version"] = 3
    assert refused(demo_document) == ["schema_version: expected 1 or 2, got 3"]


def test_wrong_types_are_refused_naming_the_place(demo_document):
    demo_document["thresholds"][3]["measurement_window_hours"] = "long"
    demo_document["bounds"][2]["value"] = "fast"
    demo_document["ai_systems"][0]["output_types"] = "chat"
    problems = refused(demo_document)
    assert "thresholds[3].measurement_window_hours: expected a whole number, got text" in problems
    assert "bounds[2].value: 'fast' is not a decimal number" in problems
    assert "ai_systems[0].output_types: expected a list of text, got text" in problems


def test_out_of_range_values_are_refused_with_the_forms_messages(demo_document):
    demo_document["bounds"][0]["value"] = "1.5"  # a ratio
    demo_document["thresholds"][1]["trigger_breaches"] = 9
    problems = refused(demo_document)
    assert "bounds[0].value: A ratio lies between 0 and 1 (0.985, not 98.5)." in problems
    assert (
        "thresholds[1].trigger_breaches: Breaches cannot exceed the number of windows looked at."
        in problems
    )


def test_unknown_references_are_refused_naming_the_place(demo_document):
    demo_document["thresholds"][3]["ai_system"] = "x"
    demo_document["bounds"][0]["escalates_to"] = ["nope"]
    demo_document["bounds"][1]["threshold"] = "gone"
    problems = refused(demo_document)
    assert "thresholds[3].ai_system: no ai system with key 'x'" in problems
    assert "bounds[0].escalates_to: no level with key 'nope'" in problems
    assert "bounds[1].threshold: no threshold with key 'gone'" in problems


def test_duplicate_names_and_keys_are_refused(demo_document):
    demo_document["ai_systems"][1]["name"] = demo_document["ai_systems"][0]["name"]
    demo_document["levels"][2]["key"] = demo_document["levels"][0]["key"]
    problems = refused(demo_document)
    assert any(p.startswith("ai_systems[1].name: ") and "ai_systems[0]" in p for p in problems)
    assert any(p.startswith("levels[2].key: ") for p in problems)


def test_two_thresholds_for_the_same_system_and_output_are_refused(demo_document):
    duplicate = copy.deepcopy(demo_document["thresholds"][0])
    duplicate["key"] = "another"
    demo_document["thresholds"].append(duplicate)
    assert any(p.startswith("thresholds[5].output_type: ") for p in refused(demo_document))


def test_missing_and_unknown_fields_are_refused(demo_document):
    del demo_document["failure_modes"][0]["severity"]
    demo_document["review_cycle"]["colour"] = "blue"
    problems = refused(demo_document)
    assert "failure_modes[0].severity: missing" in problems
    assert "review_cycle.colour: not a field of this document" in problems


def test_unknown_choice_is_refused(demo_document):
    demo_document["review_cycle"]["drift_triggers"][0]["metric"] = "vibes"
    problems = refused(demo_document)
    assert any(p.startswith("review_cycle.drift_triggers[0].metric: ") for p in problems)


def test_a_document_that_is_not_an_object_is_refused(db):
    assert refused([1, 2]) == ["document: expected an object, got a list"]


def test_nul_characters_are_refused(demo_document):
    demo_document["name"] = "bad\x00name"
    assert "name: Contains a control character (U+0000) that cannot be printed." in refused(
        demo_document
    )


def test_oversized_files_are_refused_before_parsing():
    with pytest.raises(DocumentError, match="larger than"):
        parse_document_text(b" " * (3 * 1024 * 1024))


def test_deeply_nested_files_are_refused():
    with pytest.raises(DocumentError, match="nested"):
        parse_document_text("[" * 100_000 + "]" * 100_000)


def test_moderately_nested_files_are_refused_too():
    with pytest.raises(DocumentError, match="nested deeper"):
        parse_document_text(json.dumps({"a": [[[[[[1]]]]]]}))


def test_invalid_json_is_refused():
    with pytest.raises(DocumentError, match="not valid JSON"):
        parse_document_text("{nope")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
def test_any_json_value_is_refused_cleanly_or_read(db, value):
    with contextlib.suppress(DocumentError):  # refused cleanly is fine; any other error is not
        read_document(value)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    collection=st.sampled_from(["ai_systems", "thresholds", "bounds", "failure_modes", "levels"]),
    field=st.text(max_size=30),
    value=json_values,
)
def test_any_single_corruption_of_a_document_never_crashes(
    db, demo_document, collection, field, value
):
    document = copy.deepcopy(demo_document)
    item = document[collection][0]
    item[field if field else next(iter(item))] = value
    with contextlib.suppress(DocumentError):
        read_document(document)


def test_export_command_prints_the_document(engagement):
    fill_demo_framework(engagement.framework, END)
    out = StringIO()
    call_command("export_framework", engagement.slug, stdout=out)
    document = build_document(engagement.framework, working_days=engagement.working_days)
    assert out.getvalue() == export_text(document)


def test_export_command_names_an_unknown_slug(db):
    with pytest.raises(CommandError, match="No engagement with slug 'nope'"):
        call_command("export_framework", "nope")


def test_import_command_creates_an_engagement_from_a_file(tmp_path, demo_document):
    path = tmp_path / "framework.json"
    path.write_text(export_text(demo_document))
    call_command(
        "import_framework",
        str(path),
        "--slug",
        "copy",
        "--start-date",
        "2027-01-04",
        stdout=StringIO(),
    )
    engagement = Engagement.objects.get(slug="copy")
    assert engagement.start_date == datetime.date(2027, 1, 4)
    assert build_document(engagement.framework) == demo_document


def test_import_command_refuses_a_broken_file_and_creates_nothing(tmp_path, demo_document):
    demo_document["thresholds"][3]["ai_system"] = "x"
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(demo_document))
    count = Framework.objects.count()
    with pytest.raises(CommandError, match=r"thresholds\[3\].ai_system: no ai system"):
        call_command("import_framework", str(path))
    assert Framework.objects.count() == count and not Engagement.objects.exists()


def test_framework_json_downloads_the_document(client, engagement, reviewer):
    fill_demo_framework(engagement.framework, END)
    client.force_login(reviewer)
    response = client.get(reverse("framework_json", args=[engagement.slug]))
    assert response["Content-Disposition"] == 'attachment; filename="acme-draft-framework.json"'
    assert response["Content-Type"] == "application/json"
    document = build_document(engagement.framework, working_days=engagement.working_days)
    assert response.content.decode() == export_text(document)


def test_framework_json_is_the_same_download_as_the_drafts_artifact(client, engagement, reviewer):
    client.force_login(reviewer)
    older = client.get(reverse("framework_json", args=[engagement.slug]))
    artifact = client.get(reverse("document_json", args=[engagement.slug]))
    assert (older.headers, older.content) == (artifact.headers, artifact.content)


def test_framework_json_is_404_for_outsiders(client, engagement, outsider):
    client.force_login(outsider)
    assert client.get(reverse("framework_json", args=[engagement.slug])).status_code == 404


def test_framework_json_refuses_post(client, engagement, observer):
    client.force_login(observer)
    assert client.post(reverse("framework_json", args=[engagement.slug])).status_code == 405


def upload(document, name="framework.json"):
    text = document if isinstance(document, str) else export_text(document)
    return SimpleUploadedFile(name, text.encode(), content_type="application/json")


def test_facilitator_uploads_a_file_and_facilitates_the_new_engagement(
    client, facilitator, demo_document
):
    client.force_login(facilitator)
    response = client.post(
        reverse("import_framework"),
        {"file": upload(demo_document), "slug": "copied", "client_organisation": "Copy Ltd"},
    )
    assert response.status_code == 302
    engagement = Engagement.objects.get(slug="copied")
    assert Membership.objects.get(engagement=engagement, user=facilitator).role == Role.FACILITATOR


def test_a_broken_upload_is_refused_with_messages_and_creates_nothing(
    client, facilitator, demo_document
):
    demo_document["bounds"][0]["escalates_to"] = ["nope"]
    client.force_login(facilitator)
    count = Engagement.objects.count()
    response = client.post(reverse("import_framework"), {"file": upload(demo_document)})
    assert response.status_code == 422
    assert "bounds[0].escalates_to: no level with key" in response.content.decode()
    assert Engagement.objects.count() == count


def test_an_upload_that_is_not_json_is_refused(client, facilitator):
    client.force_login(facilitator)
    response = client.post(reverse("import_framework"), {"file": upload("not json")})
    assert response.status_code == 422 and "not valid JSON" in response.content.decode()


def test_upload_to_a_taken_slug_is_refused(client, facilitator, engagement, demo_document):
    client.force_login(facilitator)
    response = client.post(
        reverse("import_framework"), {"file": upload(demo_document), "slug": engagement.slug}
    )
    assert "exists already" in response.content.decode()


def test_members_who_facilitate_nothing_cannot_import(client, observer):
    client.force_login(observer)
    assert client.get(reverse("import_framework")).status_code == 403


def test_import_page_refuses_put(client, facilitator):
    client.force_login(facilitator)
    assert client.put(reverse("import_framework")).status_code == 405


def test_items_missing_their_key_are_refused(demo_document):
    del demo_document["ai_systems"][0]["key"]
    assert "ai_systems[0].key: missing" in refused(demo_document)


def test_export_import_export_through_the_commands_is_byte_identical(tmp_path, engagement):
    fill_demo_framework(engagement.framework, END)
    first = StringIO()
    call_command("export_framework", engagement.slug, stdout=first)
    path = tmp_path / "framework.json"
    path.write_text(first.getvalue())
    call_command("import_framework", str(path), "--slug", "again", stdout=StringIO())
    second = StringIO()
    call_command("export_framework", "again", stdout=second)
    assert second.getvalue().encode() == first.getvalue().encode()


def test_schema_version_true_is_not_1(demo_document):
    demo_document["schema_version"] = True
    assert refused(demo_document) == ["schema_version: expected 1 or 2, got True"]


def test_framework_fields_are_named_by_their_place_in_the_document(demo_document):
    demo_document["review_cycle"]["sunset_criteria"] = 7
    demo_document["review_cycle"]["cadences"][0]["frequency"] = "hourly"
    problems = refused(demo_document)
    assert "review_cycle.sunset_criteria: expected text, got a number" in problems
    assert any(p.startswith("review_cycle.cadences[0].frequency: ") for p in problems)


def test_a_level_listed_twice_in_a_bounds_escalation_is_refused(demo_document):
    key = demo_document["levels"][0]["key"]
    demo_document["bounds"][0]["escalates_to"] = [key, key]
    assert "bounds[0].escalates_to: a key is listed twice" in refused(demo_document)


def test_the_document_carries_the_engagements_working_length(tmp_path, engagement):
    engagement.working_days = 7
    engagement.save()
    out = StringIO()
    call_command("export_framework", engagement.slug, stdout=out)
    path = tmp_path / "framework.json"
    path.write_text(out.getvalue())
    call_command("import_framework", str(path), "--slug", "again", stdout=StringIO())
    assert Engagement.objects.get(slug="again").working_days == 7


def test_a_working_length_that_is_not_a_number_of_days_is_refused(demo_document):
    demo_document["working_days"] = "two weeks"
    problems = refused(demo_document)
    assert problems == [
        "working_days: expected a whole number of days from 1 to 365 or null, got 'two weeks'"
    ]
