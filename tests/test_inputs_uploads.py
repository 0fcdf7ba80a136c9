"""The framework import, by upload and by `manage.py import_framework`, under any file: binary
garbage, wrong encodings, deep nesting, huge numbers, wrong names and types. Nothing fails,
a refused file creates nothing; bodies too large to read get a clear 413."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from hypothesis import example, given
from hypothesis import strategies as st

from escalation.demo_framework import fill_demo_framework
from escalation.document import build_document, export_text
from tests.framework_content import make_framework
from tests.inputs import (
    database_state,
    few_examples,
    form_data,
    hostile_text,
    rolled_back,
    server_did_not_fail,
)
from workshops.imports import MAX_UPLOAD_BYTES
from workshops.models import Engagement

pytestmark = pytest.mark.django_db

IMPORT_URL = "/import/"


@pytest.fixture
def demo_document():
    framework = make_framework(name="Northwind framework")
    fill_demo_framework(framework, datetime.date(2026, 11, 13))
    return build_document(framework)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
# Raw JSON for one field: numbers JSON allows or nearly does, and text at the length limits.
raw_values = st.one_of(
    st.sampled_from(
        ["1e999", "-1e999", "NaN", "Infinity", "-0", "1e-999", "9" * 40, "1" + "0" * 5000, "0.1"]
    ),
    st.sampled_from([60, 119, 120, 121, 150, 199, 200, 201, 5000]).map(lambda n: f'"{"N" * n}"'),
)


@st.composite
def with_raw_value(draw, document: dict) -> bytes:
    """The document with one field, anywhere in it, set to one of the raw values above."""
    collection = draw(st.sampled_from([k for k, v in document.items() if isinstance(v, list)]))
    changed = json.loads(json.dumps(document))
    items = changed[collection]
    place = items[draw(st.integers(0, len(items) - 1))] if items else changed
    place[draw(st.sampled_from(sorted(place)))] = "__RAW__"
    return json.dumps(changed).replace('"__RAW__"', draw(raw_values)).encode()


def file_bodies(document: dict) -> st.SearchStrategy[bytes]:
    text = export_text(document)
    return st.one_of(
        st.just(text.encode()),
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "latin-1", "cp1252"]).map(
            lambda encoding: text.encode(encoding, errors="replace")
        ),
        st.integers(1, 200_000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
        st.integers(1, 40).map(lambda depth: ('{"a":' * depth + "1" + "}" * depth).encode()),
        st.integers(0, len(text)).map(lambda cut: text[:cut].encode()),
        with_raw_value(document),
    )


file_names = st.sampled_from(
    [
        "framework.json",
        "FRAMEWORK.JSON",
        "évaluation.json",
        "framework.txt",
        "framework",
        "a.json.exe",
    ]
)
content_types = st.sampled_from(
    ["application/json", "text/json", "application/octet-stream", "text/plain", "image/png"]
)
detail_fields = form_data(
    ["slug", "client_organisation", "title", "start_date"],
    slug=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    client_organisation=st.just("Copy Ltd"),
    start_date=st.dates().map(str),
)


def post_file(client, body: bytes, name: str, content_type: str, details: dict):
    upload = SimpleUploadedFile(name, body, content_type=content_type)
    return client.post(IMPORT_URL, {"file": upload, **details})


@few_examples
@given(data=st.data(), name=file_names, content_type=content_types, details=detail_fields)
@example(data=None, name="framework.json", content_type="application/json", details={})
def test_any_upload_is_imported_or_refused_without_a_trace(
    client, facilitator, demo_document, data, name, content_type, details
):
    body = data.draw(file_bodies(demo_document)) if data else export_text(demo_document).encode()
    client.force_login(facilitator)
    with rolled_back():
        before = database_state()
        response = post_file(client, body, name, content_type, details)
        server_did_not_fail(response)
        if response.status_code != 302:
            assert response.status_code == 422
            assert database_state() == before


def test_a_demo_upload_with_right_name_and_type_is_imported(client, facilitator, demo_document):
    client.force_login(facilitator)
    body = export_text(demo_document).encode()
    response = post_file(client, body, "framework.json", "application/json", {"slug": "copied"})
    assert response.status_code == 302 and Engagement.objects.filter(slug="copied").exists()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("framework.txt", "application/json"), ("framework.json", "image/png"), ("x", "text/html")],
)
def test_a_file_that_is_not_json_by_name_or_type_is_refused_beside_the_field(
    client, facilitator, demo_document, name, content_type
):
    client.force_login(facilitator)
    body = export_text(demo_document).encode()
    response = post_file(client, body, name, content_type, {})
    assert response.status_code == 422
    assert "a .json file (application/json)" in response.content.decode()


def test_a_file_over_the_limit_is_refused_beside_the_field(client, facilitator):
    client.force_login(facilitator)
    body = b" " * (MAX_UPLOAD_BYTES + 1)
    response = post_file(client, body, "framework.json", "application/json", {})
    assert response.status_code == 422
    assert "The file is larger than 2 MB" in response.content.decode()


def test_a_deeply_nested_file_is_refused_cleanly(client, facilitator):
    client.force_login(facilitator)
    body = b"[" * 500_000 + b"]" * 500_000
    response = post_file(client, body, "framework.json", "application/json", {})
    assert response.status_code == 422 and "nested" in response.content.decode()


def test_an_upload_far_over_the_limit_is_refused_with_413_before_it_is_read(client, facilitator):
    client.force_login(facilitator)
    count = Engagement.objects.count()
    body = b" " * (3 * MAX_UPLOAD_BYTES)
    response = post_file(client, body, "framework.json", "application/json", {})
    assert response.status_code == 413
    assert "larger than this page accepts" in response.content.decode()
    assert Engagement.objects.count() == count


def test_form_data_over_django_s_limit_gets_a_clear_413(client, facilitator, engagement):
    client.force_login(facilitator)
    notes = {"attendees": "Fay", "decisions": "x" * (2 * 1024 * 1024 + 10)}
    response = client.post("/e/acme/days/1/notes/", notes)
    assert response.status_code == 413
    assert "larger than this page accepts" in response.content.decode()


def test_too_many_fields_get_a_clear_400(client, facilitator, engagement):
    client.force_login(facilitator)
    response = client.post("/e/acme/days/1/notes/", {f"f{n}": "1" for n in range(1200)})
    assert response.status_code == 400
    assert "more fields or files than any page here has" in response.content.decode()


# The command reads the same files


@few_examples
@given(
    data=st.data(),
    options=st.fixed_dictionaries(
        {},
        optional={
            "slug": st.one_of(st.just("copied"), hostile_text),
            "client": hostile_text,
            "title": hostile_text,
        },
    ),
)
def test_the_import_command_imports_or_refuses_any_file_without_a_trace(
    tmp_path, demo_document, data, options
):
    path = tmp_path / "framework.json"
    path.write_bytes(data.draw(file_bodies(demo_document)))
    with rolled_back():
        before = database_state()
        try:
            call_command("import_framework", str(path), stdout=StringIO(), **options)
        except CommandError:
            assert database_state() == before


def test_a_framework_name_of_full_length_still_makes_a_title(client, facilitator, demo_document):
    client.force_login(facilitator)
    body = export_text(demo_document | {"name": "N" * 200}).encode()
    response = post_file(client, body, "framework.json", "application/json", {"slug": "long"})
    assert response.status_code == 302
    assert len(Engagement.objects.get(slug="long").title) == 200


def test_the_import_command_names_the_option_it_refuses(tmp_path, demo_document):
    path = tmp_path / "framework.json"
    path.write_text(export_text(demo_document))
    with pytest.raises(CommandError, match="--slug: Enter a valid “slug”"):
        call_command("import_framework", str(path), "--slug", "Not a slug!")
    assert not Engagement.objects.exists()
