"""Values that once broke rendering or answered 500, each reproduced through the app's own views:
text that reaches DOT, mail headers and iCalendar, a lone surrogate in an import, a date at the
end of the calendar, a name longer than its column, and two saves of one day's notes at once."""

from __future__ import annotations

import datetime
import json
import os
import threading
from typing import Any

import icalendar
import pytest
from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from escalation.models import Bound, EscalationLevel, Pack, PackStatus, ReviewCadence
from escalation.text import SafeTextForm
from tests.factories import make_engagement, make_member, make_user, make_version, sign_off
from tests.framework_content import make_framework_content
from workshops.models import DayNote, Engagement, Role

pytestmark = pytest.mark.django_db


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def artifacts_of(number: int | None = None) -> str:
    if number is None:
        return reverse("artifacts", args=["acme"])
    return reverse("version_artifacts", args=["acme", number])


def pack_is_made(client: Client, number: int) -> bool:
    client.post(reverse("version_pack_generate", args=["acme", number]))
    run_worker()
    return Pack.objects.get(version__number=number).status == PackStatus.READY


# The worker closes connections between tasks, which a test wrapped in a transaction cannot
# survive: the tests that make a pack commit for real.
# Text reaching the ladder's DOT source: stored before it was refused, frozen for good.


@pytest.mark.django_db(transaction=True)
def test_a_framework_name_ending_in_a_backslash_still_draws_and_packs(client, engagement, reviewer):
    engagement.framework.name = "Acme\\"
    engagement.framework.save()
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(reviewer)
    assert client.get(artifacts_of()).status_code == 200
    assert client.get(artifacts_of(1)).status_code == 200
    assert pack_is_made(client, 1)


@pytest.mark.django_db(transaction=True)
def test_a_control_character_in_a_frozen_level_name_is_drawn_as_its_code_point(
    client, engagement, reviewer
):
    make_framework_content(engagement.framework)
    EscalationLevel.objects.filter(key="prompt").update(name="Prompt\x01optimization")
    make_version(engagement.framework)
    client.force_login(reviewer)
    page = client.get(artifacts_of(1))
    assert "Prompt[U+0001]optimization" in page.content.decode()
    assert pack_is_made(client, 1)


def test_quotes_and_backslashes_in_every_ladder_label_survive_the_drawing(
    client, engagement, reviewer
):
    make_framework_content(engagement.framework)
    EscalationLevel.objects.filter(key="prompt").update(
        trigger='say "hi" \\', entry_criteria="C:\\path\\", approval_owner_name='\\"'
    )
    client.force_login(reviewer)
    svg = client.get(reverse("ladder_svg", args=["acme"])).content.decode()
    assert "say &quot;hi&quot; \\" in svg and "C:\\path\\" in svg


def test_bound_text_on_a_ladder_edge_is_escaped_and_a_stored_control_character_drawn(
    client, engagement, reviewer
):
    make_framework_content(engagement.framework)
    Bound.objects.filter(framework=engagement.framework).update(metric_name='say "hi" \\ <b>\x01')
    client.force_login(reviewer)
    svg = client.get(reverse("ladder_svg", args=["acme"])).content.decode()
    assert "say &quot;hi&quot; \\ &lt;b&gt;[U+0001]" in svg


# Mail headers and iCalendar text


@pytest.mark.django_db(transaction=True)  # the worker sends the mail
def test_a_line_break_in_the_stored_client_name_does_not_break_the_invitation_mail(
    client, engagement, facilitator, mailoutbox
):
    Engagement.objects.filter(pk=engagement.pk).update(
        client_organisation="Acme\nInsurance", title="Cycle\r\n2"
    )
    client.force_login(facilitator)
    response = client.post(
        reverse("invite", args=["acme"]), {"email": "new@example.com", "role": Role.REVIEWER}
    )
    assert response.status_code == 302
    run_worker()
    assert mailoutbox[0].subject == "Invitation: Cycle 2 (Acme Insurance)"


def test_the_reviews_calendar_escapes_stored_text_as_rfc_5545_says(client, engagement, reviewer):
    make_framework_content(engagement.framework)
    Engagement.objects.filter(pk=engagement.pk).update(client_organisation="Acme\nInsurance")
    engagement.framework.sunset_criteria = "Retire; replace, then \\ report\nto the board"
    engagement.framework.save()
    client.force_login(reviewer)
    response = client.get(reverse("review_cycle_ics", args=["acme"]))
    assert response.status_code == 200
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert "Retire; replace, then \\ report\nto the board" in str(event["description"])
    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))


# The import


def test_an_imported_document_with_a_lone_surrogate_is_refused_naming_the_place(
    client, facilitator
):
    make_framework_content(make_engagement(slug="source").framework)
    client.force_login(facilitator)
    document = json.loads(client.get(reverse("document_json", args=["acme"])).content)
    document["name"] = "Acme \ud800"
    body = json.dumps(document).encode()  # \ud800 travels as a JSON escape
    upload = SimpleUploadedFile("f.json", body, content_type="application/json")
    response = client.post("/import/", {"file": upload})
    assert response.status_code == 422
    assert "name: Contains an invalid character (U+D800" in response.content.decode()
    assert Engagement.objects.count() == 2


# Dates and names at the edges of their columns


def test_a_start_date_at_the_end_of_the_calendar_is_refused_beside_the_field(
    client, engagement, facilitator
):
    client.force_login(facilitator)
    data = {
        "client_organisation": "Acme",
        "title": "Cycle 2",
        "start_date": "9999-12-27",
        "working_days": "10",
        "timezone": "UTC",
    }
    response = client.post(reverse("engagement_settings", args=["acme"]), data)
    assert response.status_code == 422
    assert "Pick a date between 2000 and 2100." in response.content.decode()


@pytest.mark.parametrize("name", ["dashboard", "days", "current_day", "versions", "artifacts"])
def test_an_engagement_stored_with_a_start_date_at_the_end_of_the_calendar_still_answers(
    client, engagement, observer, name
):
    Engagement.objects.filter(pk=engagement.pk).update(start_date=datetime.date(9999, 12, 27))
    client.force_login(observer)
    response = client.get(reverse(name, args=["acme"]), follow=True)
    assert response.status_code == 200


def test_a_first_and_last_name_longer_than_the_author_column_still_freeze(client, engagement):
    user = make_user("long", first_name="F" * 150, last_name="L" * 150)
    make_member(engagement, Role.FACILITATOR, user)
    client.force_login(user)
    response = client.post(reverse("version_freeze", args=["acme"]), {"summary": "First"})
    assert response.status_code == 302
    assert engagement.framework.versions.get().created_by_name.startswith("F" * 100)


def test_an_invited_person_cannot_choose_a_name_longer_than_the_app_can_show(
    client, engagement, facilitator
):
    from workshops.forms import InvitedUserForm

    form = InvitedUserForm(
        {
            "username": "newbie",
            "first_name": "F" * 100,
            "last_name": "L" * 100,
            "password1": "a-long-pass-word-1",
            "password2": "a-long-pass-word-1",
        },
        invited_email="newbie@example.com",
    )
    assert "last_name" in form.errors


# Day notes


def notes_url(number: int = 1) -> str:
    return reverse("day_notes", args=["acme", number])


NOTES = {"attendees": "Fay (facilitator)", "decisions": "Keep the ladder", "open_questions": ""}


def test_a_note_saved_on_top_of_an_older_version_is_refused_and_keeps_the_newer(
    client, engagement, facilitator
):
    client.force_login(facilitator)
    client.post(notes_url(), NOTES | {"row_version": ""})
    client.post(notes_url(), NOTES | {"decisions": "Newer", "row_version": "1"})
    response = client.post(notes_url(), NOTES | {"decisions": "Stale", "row_version": "1"})
    assert response.status_code == 409
    assert DayNote.objects.get().decisions == "Newer"


def test_reordering_a_level_makes_an_edit_loaded_before_it_stale(client, engagement, facilitator):
    make_framework_content(engagement.framework)
    level = EscalationLevel.objects.get(key="retrieval")
    client.force_login(facilitator)
    move = reverse("step_item_move", args=["acme", "ladder", "levels", "retrieval"])
    assert client.post(move, {"direction": "up"}).status_code < 400
    level.refresh_from_db()
    assert level.position == 0 and level.row_version == 2


@pytest.mark.django_db(transaction=True)
def test_two_first_saves_of_a_days_notes_at_once_both_answer(facilitator, engagement):
    start = threading.Barrier(2)
    statuses: list[Any] = []

    def save(decisions: str) -> None:
        try:
            client = Client()
            client.force_login(facilitator)
            start.wait(5)
            statuses.append(client.post(notes_url(), NOTES | {"decisions": decisions}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(statuses)[0] == 302 and all(status < 500 for status in statuses)
    assert DayNote.objects.count() == 1


# Rendering defensively


@pytest.fixture
def refusing_graphviz(tmp_path, monkeypatch):
    """A `dot` that refuses the first level's label as graphviz does: the one fake, at the
    boundary of an outside program."""
    dot = tmp_path / "dot"
    # It reads its input first, as graphviz does: exiting before the DOT is written would break
    # the pipe, a different failure from the one faked here.
    dot.write_text(
        "#!/bin/sh\ncat >/dev/null\necho 'Error: /srv/secret/path: syntax error' >&2\n"
        "echo 'in label of node level-prompt' >&2\nexit 1\n"
    )
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_a_ladder_graphviz_refuses_is_explained_on_the_page_naming_the_level(
    client, engagement, reviewer, refusing_graphviz
):
    make_framework_content(engagement.framework)
    client.force_login(reviewer)
    response = client.get(artifacts_of())
    html = response.content.decode()
    assert response.status_code == 200 and "Failure mode response matrix" in html
    assert "graphviz refused the label of level 1, “Prompt optimization”" in html
    assert "/srv/secret" not in html


def test_a_ladder_download_graphviz_refuses_answers_why_not_500(
    client, engagement, reviewer, refusing_graphviz
):
    make_framework_content(engagement.framework)
    client.force_login(reviewer)
    response = client.get(reverse("ladder_png", args=["acme"]))
    assert response.status_code == 422
    assert b"The ladder diagram could not be drawn" in response.content


@pytest.mark.django_db(transaction=True)
def test_a_pack_graphviz_refuses_says_which_level_on_the_pack_page(
    client, engagement, reviewer, refusing_graphviz
):
    make_framework_content(engagement.framework)
    make_version(engagement.framework)
    client.force_login(reviewer)
    assert not pack_is_made(client, 1)
    html = client.get(reverse("version_pack", args=["acme", 1])).content.decode()
    assert "graphviz refused the label of level 1, “Prompt optimization”" in html
    assert "/srv/secret" not in html


@pytest.mark.django_db(transaction=True)
def test_a_failed_pack_shows_a_reference_instead_of_the_exception(
    client, engagement, approver, settings
):
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    sign_off(engagement, version, [approver])
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = "/nonexistent/signing.pem"
    client.force_login(approver)
    assert not pack_is_made(client, 1)
    html = client.get(reverse("version_pack", args=["acme", 1])).content.decode()
    assert "Reference " in html and "/nonexistent" not in html


@pytest.mark.parametrize("name", ["artifacts", "review_cycle_ics"])
def test_a_first_review_stored_at_the_end_of_the_calendar_still_renders(
    client, engagement, reviewer, name
):
    make_framework_content(engagement.framework)
    ReviewCadence.objects.filter(framework=engagement.framework).update(
        first_date=datetime.date(9999, 11, 30), frequency="weekly"
    )
    client.force_login(reviewer)
    assert client.get(reverse(name, args=["acme"])).status_code == 200


# One text rule for every form


def project_forms() -> list[type]:
    """Every form class the app defines (its modules imported, so subclasses are known)."""
    import workshops.forms
    import workshops.imports
    import workshops.review_forms  # noqa: F401

    def subclasses(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in [direct, *subclasses(direct)]]

    return sorted(
        {
            form
            for form in subclasses(django_forms.BaseForm)
            if form.__module__.split(".")[0] in {"escalation", "workshops"}
        },
        key=lambda form: form.__qualname__,
    )


@pytest.mark.parametrize("form_class", project_forms(), ids=lambda form: form.__qualname__)
def test_every_form_of_the_app_applies_the_one_text_rule(form_class):
    assert issubclass(form_class, SafeTextForm)


def test_a_control_character_in_one_item_of_a_list_field_is_refused_naming_the_item(engagement):
    from escalation.forms import AISystemForm

    for _ in range(3):  # each form checks the items once, however many forms were built
        form = AISystemForm({"output_types": "summary,chat\x01"}, framework=engagement.framework)
    assert form.errors["output_types"] == [
        "Item 2 in the array did not validate: "
        "Contains a control character (U+0001) that cannot be printed."
    ]
