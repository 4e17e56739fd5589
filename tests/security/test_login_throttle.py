"""Guessing passwords through the API: the per-address limit that X-Forwarded-For cannot get
around, the per-account lockout with its cool-down, and both counted in the cache every
process shares. Through HTTP; given / when / then."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from annotation.models import AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"
ROOT = Path(__file__).resolve().parents[2]


def outcome(response: Any) -> str:
    return f"{response.status_code} {response.json()['code']}"


def guess(api: APIClient, username: str, forwarded_for: str, password: str = "wrong") -> Any:
    return api.post(
        LOGIN, {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forwarded_for
    )


def test_rotating_forwarded_for_does_not_make_a_new_client(api: APIClient) -> None:
    # given: no trusted proxy (the default); each guess names another account, so only the
    # per-address limit (30 a minute) can stop them
    # when: 200 guesses, each claiming another address in X-Forwarded-For
    answers = Counter(
        outcome(guess(api, f"victim{n}", forwarded_for=f"203.0.113.{n % 250}, 10.0.0.{n % 250}"))
        for n in range(200)
    )

    # then
    print(f"200 guesses with rotating X-Forwarded-For: {dict(answers)}")
    assert answers == {"403 bad_credentials": 30, "429 throttled": 170}


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_with_one_trusted_proxy_the_address_it_appended_is_the_client(api: APIClient) -> None:
    # given: one proxy, which appends the address it saw; what the client wrote is to its left
    # when: 31 guesses from 198.51.100.7 each forging another left-hand entry, then one from
    # another client
    same_client = [
        outcome(guess(api, f"victim{n}", forwarded_for=f"192.0.2.{n}, 198.51.100.7"))
        for n in range(31)
    ]
    other_client = guess(api, "victim", forwarded_for="192.0.2.1, 198.51.100.8")

    # then
    assert same_client == ["403 bad_credentials"] * 30 + ["429 throttled"]
    assert outcome(other_client) == "403 bad_credentials"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_an_account_locks_after_ten_failures_from_any_addresses(api: APIClient) -> None:
    # given: a trusted proxy, so every guess really comes from a new address
    make_user(username="alice", password=PASSWORD)

    # when: 200 guesses at alice's password, then alice herself with the right one
    answers = [
        outcome(guess(api, "alice", forwarded_for=f"10.1.{n // 250}.{n % 250}")) for n in range(200)
    ]
    locked = guess(api, "alice", forwarded_for="10.9.9.9", password=PASSWORD)
    with override_settings(LOGIN_LOCKOUT_COOLDOWN_S=0):  # the cool-down has passed
        after_cooldown = guess(api, "alice", forwarded_for="10.9.9.9", password=PASSWORD)

    # then
    print(f"200 guesses at one account from 200 addresses: {dict(Counter(answers))}")
    assert answers == ["403 bad_credentials"] * 10 + ["429 account_locked"] * 190
    assert outcome(locked) == "429 account_locked"
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_COOLDOWN_S == 900
    assert after_cooldown.status_code == 200
    assert after_cooldown.json()["username"] == "alice"


def test_an_account_that_does_not_exist_answers_the_same(api: APIClient) -> None:
    # given
    make_user(username="alice", password=PASSWORD)

    # when: eleven wrong passwords for a real account and for a made-up one
    real = [guess(api, "alice", forwarded_for="") for _ in range(11)]
    made_up = [guess(api, "nobody-by-this-name", forwarded_for="") for _ in range(11)]

    # then: the same statuses, codes and headers; no way to tell which name exists
    assert [outcome(r) for r in real] == [outcome(r) for r in made_up]
    assert [outcome(r) for r in real] == ["403 bad_credentials"] * 10 + ["429 account_locked"]
    assert real[-1]["Retry-After"] == made_up[-1]["Retry-After"]
    assert real[0].json() == made_up[0].json()


def test_a_success_starts_the_count_again(api: APIClient) -> None:
    # given
    make_user(username="alice", password=PASSWORD)

    # when: nine failures, a success, then ten more failures
    first = [outcome(guess(api, "alice", "")) for _ in range(9)]
    success = guess(api, "alice", "", password=PASSWORD)
    second = [outcome(guess(api, "alice", "")) for _ in range(10)]
    after = guess(api, "alice", "", password=PASSWORD)

    # then: the lock needed ten failures after the success
    assert first == ["403 bad_credentials"] * 9
    assert success.status_code == 200
    assert second == ["403 bad_credentials"] * 10
    assert outcome(after) == "429 account_locked"


def test_failed_logins_lock_the_token_endpoint_too(api: APIClient) -> None:
    # given: ten failed browser logins
    make_user(username="alice", password=PASSWORD)
    for _ in range(10):
        guess(api, "alice", "")

    # when: a script asks for a token with the right password
    response = api.post(TOKEN, {"username": "alice", "password": PASSWORD})

    # then
    assert outcome(response) == "429 account_locked"
    assert "Retry-After" in response


def test_sign_ins_are_audited_with_the_name_tried_and_the_address(api: APIClient) -> None:
    # given
    alice = make_user(username="alice", password=PASSWORD)

    # when
    guess(api, "alice", "")
    guess(api, "mallory", "")
    api.post(LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.5")

    # then
    events = AuditEvent.objects.order_by("id")
    assert [
        (e.actor_id, e.action, e.target_type, e.target_id, e.target_name, e.details) for e in events
    ] == [
        (
            None,
            "auth.login_failed",
            "User",
            str(alice.pk),
            "alice",
            {
                "username": "alice",
                "client_address": "127.0.0.1",
                "reason": "bad_credentials",
                "via": "session",
            },
        ),
        (
            None,
            "auth.login_failed",
            "UnknownAccount",
            "",
            "mallory",
            {
                "username": "mallory",
                "client_address": "127.0.0.1",
                "reason": "bad_credentials",
                "via": "session",
            },
        ),
        (
            alice.pk,
            "auth.login",
            "User",
            str(alice.pk),
            "alice",
            {"client_address": "192.0.2.5", "via": "session"},
        ),
    ]


def fail_in_another_process(username: str, times: int) -> None:
    """Count failed sign-ins from a separate Python process, with its own cache client."""
    script = (
        "import django; django.setup()\n"
        "from common.throttles import count_failed_sign_in\n"
        f"for _ in range({times}): count_failed_sign_in({username!r})\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)


def test_failures_counted_by_another_process_lock_the_account(api: APIClient) -> None:
    # given: nine failures counted by another process (another gunicorn worker)
    make_user(username="alice", password=PASSWORD)
    fail_in_another_process("alice", times=9)

    # when: one more failure here, then the right password
    tenth = guess(api, "alice", "")
    right = guess(api, "alice", "", password=PASSWORD)

    # then: both processes counted in the same place
    assert outcome(tenth) == "403 bad_credentials"
    assert outcome(right) == "429 account_locked"


@pytest.mark.redis
def test_the_shared_cache_is_redis_on_its_own_database(api: APIClient) -> None:
    # given: REDIS_URL set (the broker)
    broker_db = settings.CELERY_BROKER_URL.rsplit("/", 1)[-1]
    location = str(settings.CACHES["default"]["LOCATION"])
    make_user(username="alice", password=PASSWORD)

    # when: nine failures in another process, one here
    fail_in_another_process("alice", times=9)
    guess(api, "alice", "")

    # then: counted in Redis, on a database the broker does not use
    assert settings.CACHES["default"]["BACKEND"] == "common.cache.OutageTolerantRedisCache"
    assert location.rsplit("/", 1)[-1] != broker_db
    assert outcome(guess(api, "alice", "", password=PASSWORD)) == "429 account_locked"


def test_a_redis_outage_leaves_sign_in_working(api: APIClient) -> None:
    # given: the cache points at a Redis that does not answer
    make_user(username="alice", password=PASSWORD)
    down = {
        "BACKEND": "common.cache.OutageTolerantRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }

    # when
    with override_settings(CACHES={"default": down}):
        wrong = guess(api, "alice", "")
        right = guess(api, "alice", "", password=PASSWORD)

    # then: no 500; limits count nothing while Redis is away (logged as a warning)
    assert outcome(wrong) == "403 bad_credentials"
    assert right.status_code == 200
