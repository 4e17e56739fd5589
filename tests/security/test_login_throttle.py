"""Guessing passwords through the API: the per-address limit that X-Forwarded-For cannot get
around, the per-account lockout with its cool-down, and both counted in the cache every
process shares. Through HTTP; given / when / then."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse
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


def test_sign_ins_are_audited_with_the_account_tried_and_the_address(api: APIClient) -> None:
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
            "unknown account c0a497761b17",
            {
                "unknown_account": True,
                "username_sha256_prefix": "c0a497761b17",
                "length": 7,
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
        "from common.throttles import reserve_sign_in_attempt\n"
        f"for _ in range({times}): reserve_sign_in_attempt({username!r})\n"
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


def test_a_password_typed_as_a_username_is_not_stored(api: APIClient) -> None:
    # given: someone types their password into the username box
    typed = "Hunter2!  my real password"

    # when
    guess(api, typed, "")

    # then: the event says a name no account has was tried, never what it was
    [event] = AuditEvent.objects.filter(action="auth.login_failed")
    assert event.details["unknown_account"] is True
    assert event.details["length"] == len(typed) == 26
    assert len(event.details["username_sha256_prefix"]) == 12
    assert "Hunter2" not in json.dumps(event.details) + event.target_name


def test_a_locked_account_leaves_one_audit_event_a_minute(api: APIClient) -> None:
    # given: a trusted proxy, so each guess comes from another address
    make_user(username="alice", password=PASSWORD)

    # when: 200 guesses at alice's password from 200 addresses
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for n in range(200):
            guess(api, "alice", forwarded_for=f"10.1.{n // 250}.{n % 250}")

    # then: ten failures checked, and one event for the 190 refused while locked
    reasons = Counter(
        e.details["reason"] for e in AuditEvent.objects.filter(action="auth.login_failed")
    )
    print(f"200 guesses at one account: audit events {dict(reasons)}")
    assert reasons == {"bad_credentials": 10, "account_locked": 1}


def test_addresses_of_one_ipv6_network_share_one_limit(api: APIClient) -> None:
    # given: the default prefix, /64; each guess names another account, so only the
    # per-address limit (30 a minute) can stop them
    # when: 31 guesses, each from another address of 2001:db8:1:2::/64, then one from the
    # next /64
    same_network = [
        outcome(
            api.post(
                LOGIN,
                {"username": f"victim{n}", "password": "wrong"},
                REMOTE_ADDR=f"2001:db8:1:2:{n:x}:{n * 7:x}::{n + 1:x}",
            )
        )
        for n in range(31)
    ]
    next_network = api.post(
        LOGIN, {"username": "victim", "password": "wrong"}, REMOTE_ADDR="2001:db8:1:3::1"
    )

    # then
    print(f"31 guesses from 31 addresses of one IPv6 /64: {dict(Counter(same_network))}")
    assert same_network == ["403 bad_credentials"] * 30 + ["429 throttled"]
    assert outcome(next_network) == "403 bad_credentials"


@override_settings(THROTTLE_IPV6_PREFIX=128)
def test_the_ipv6_prefix_is_a_setting(api: APIClient) -> None:
    # when: with /128, 31 guesses from 31 addresses of one /64
    answers = [
        outcome(
            api.post(
                LOGIN, {"username": f"victim{n}", "password": "x"}, REMOTE_ADDR=f"2001:db8::{n + 1}"
            )
        )
        for n in range(31)
    ]

    # then: each address is a client of its own
    assert answers == ["403 bad_credentials"] * 31


def test_an_ipv4_address_written_as_ipv6_is_the_same_client(api: APIClient) -> None:
    # when: 15 guesses from ::ffff:198.51.100.7 and 16 from 198.51.100.7
    addresses = ["::ffff:198.51.100.7"] * 15 + ["198.51.100.7"] * 16
    answers = [
        outcome(api.post(LOGIN, {"username": f"victim{n}", "password": "x"}, REMOTE_ADDR=address))
        for n, address in enumerate(addresses)
    ]

    # then: one limit of 30
    assert answers == ["403 bad_credentials"] * 30 + ["429 throttled"]


def post_from_threads(url: str, path: str, bodies: list[dict[str, str]]) -> Counter[str]:
    """POST every body at once, one thread and one connection each. The connections are
    opened first, one after another (a test server's accept queue is short), then every
    thread sends its request when all are ready; the answers counted."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connections = [http.client.HTTPConnection(host, int(port), timeout=120) for _ in bodies]
    for connection in connections:
        connection.connect()
    start = threading.Barrier(len(bodies))
    answers: list[str] = []

    def post(connection: http.client.HTTPConnection, body: dict[str, str]) -> None:
        start.wait()
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append(f"{response.status} {json.load(response).get('code', 'ok')}")
        connection.close()

    threads = [
        threading.Thread(target=post, args=(connection, body))
        for connection, body in zip(connections, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(answers)


@pytest.mark.postgres
@pytest.mark.redis
def test_parallel_guesses_cannot_all_pass_the_lockout_check(
    transactional_db: None, live_server: Any
) -> None:
    # given: a real server answering each connection in its own thread, Redis as the cache,
    # and a per-address limit high enough that only the account lockout stops the guesses
    make_user(username="alice", password=PASSWORD)
    bodies = [{"username": "alice", "password": f"guess-{n}"} for n in range(40)]

    # when: 40 wrong passwords at once
    with override_settings(SIGN_IN_RATE="1000/min"):
        answers = post_from_threads(live_server.url, TOKEN, bodies)

    # then: only as many passwords were checked as the lockout allows
    print(f"40 parallel guesses at one account: {dict(answers)}")
    assert answers == {"403 bad_credentials": 10, "429 account_locked": 30}
    reasons = Counter(
        e.details["reason"] for e in AuditEvent.objects.filter(action="auth.login_failed")
    )
    assert reasons == {"bad_credentials": 10, "account_locked": 1}


@pytest.mark.postgres
@pytest.mark.redis
def test_parallel_calls_from_one_address_cannot_pass_its_limit(
    transactional_db: None, live_server: Any
) -> None:
    # given: a limit of 10 sign-in calls a minute per address; each call names another
    # account, so only the per-address limit can stop them
    bodies = [{"username": f"victim{n}", "password": "wrong"} for n in range(40)]

    # when: 40 calls at once from one address
    with override_settings(SIGN_IN_RATE="10/min"):
        answers = post_from_threads(live_server.url, TOKEN, bodies)

    # then
    print(f"40 parallel calls from one address, limit 10: {dict(answers)}")
    assert answers == {"403 bad_credentials": 10, "429 throttled": 30}
