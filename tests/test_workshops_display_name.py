"""A person is named one way everywhere (workshops.people.display_name): full name, else username,
else the words the context gives for no one."""

from django.template import Context, Template
from django.urls import reverse

from tests.factories import make_member, make_user
from workshops.models import Role
from workshops.people import display_name


def test_a_person_is_named_by_full_name_else_username(db):
    assert display_name(make_user("dana", first_name="Dana", last_name="Lead")) == "Dana Lead"
    assert display_name(make_user("kim", first_name="")) == "kim"


def test_no_person_reads_as_the_words_given_for_no_one():
    assert display_name(None) == "Someone"
    assert display_name(None, absent="Former member") == "Former member"


def test_templates_name_people_through_the_same_rule(db):
    template = Template('{% load people %}{{ a|display_name }} / {{ b|display_name:"—" }}')
    rendered = template.render(Context({"a": make_user("kim", first_name=""), "b": None}))
    assert rendered == "kim / —"


def test_the_people_page_names_a_member_without_a_full_name_by_username(
    client, facilitator, engagement
):
    make_member(engagement, Role.OBSERVER, make_user("kim", first_name=""))
    client.force_login(facilitator)
    html = client.get(reverse("people", args=["acme"])).content.decode()
    assert "<td>kim</td>" in html
