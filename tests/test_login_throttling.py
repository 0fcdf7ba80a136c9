"""Login throttling: five failures lock a username; one failure does not."""

from django.test import override_settings
from django.urls import reverse


@override_settings(AXES_ENABLED=True)
def test_login_is_locked_after_five_failures_even_with_the_right_password(facilitator, client):
    for _ in range(5):
        client.post(reverse("login"), {"username": "fay", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "fay", "password": "pass-word-1"})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


@override_settings(AXES_ENABLED=True)
def test_a_correct_login_after_one_failure_still_works(facilitator, client):
    client.post(reverse("login"), {"username": "fay", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "fay", "password": "pass-word-1"})
    assert response.status_code == 302
