"""simulate_raters: synthetic raters with set traits driving the rater API, and the pure
behaviour model in annotation.simulation.traits and .prompts. Given / when / then, exact
assertions."""

from __future__ import annotations

import itertools
import json
import random
import re
import statistics
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from annotation.models import (
    ApiToken,
    Campaign,
    Judgment,
    JudgmentMode,
    Preference,
    RankingTask,
    RaterPool,
    Response,
)
from annotation.services.tokens import issue_token
from annotation.simulation.driver import (
    MAX_ERRORS_IN_A_ROW,
    SimulatedRater,
    Simulation,
    in_process_host,
)
from annotation.simulation.prompts import concise_quality, synthetic_prompts
from annotation.simulation.traits import (
    RaterTraits,
    ShownResponse,
    TraitsInvalid,
    assign_traits,
    decide,
    noisy_sort,
)
from tests.factories import make_campaign, make_pool, make_task, make_user

NEXT = "/api/v1/assignments/next/"


def simulate(*args: str) -> dict[str, Any]:
    """Run the command; return the summary JSON it prints as its last stdout line."""
    out = StringIO()
    call_command("simulate_raters", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def preferences_of(username: str) -> list[Preference]:
    return list(
        Preference.objects.filter(judgment__rater__username=username).select_related(
            "chosen", "rejected"
        )
    )


def quality(response: Response) -> float:
    return float(response.metadata["sim_quality"])


# -- through the command and the API --------------------------------------------------------


@pytest.mark.django_db
def test_a_small_pairwise_run_submits_every_judgment_through_the_api(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"

    summary = simulate(
        "--create-campaign", "Sim small", "--tasks", "30", "--raters", "4",
        "--judgments-per-rater", "20", "--seed", "1", "--prefix", "small",
        "--summary", str(summary_file),
    )  # fmt: skip

    campaign = Campaign.objects.get(name="Sim small")
    assert campaign.judgment_mode == JudgmentMode.PAIRWISE
    assert RankingTask.objects.filter(campaign=campaign).count() == 30
    assert json.loads(summary_file.read_text()) == summary
    assert summary["campaign_id"] == campaign.pk
    assert summary["campaign"] == "Sim small"
    assert summary["judgments"] == 80
    assert summary["errors"] == {}
    assert [(r["username"], r["submitted"], r["stopped"]) for r in summary["raters"]] == [
        (f"small-0{n}", 20, "limit") for n in range(1, 5)
    ]
    assert summary["raters"][0]["traits"] == RaterTraits().as_dict()
    judgments = Judgment.objects.filter(task__campaign=campaign)
    assert judgments.count() == 80
    assert judgments.filter(strength="").count() == 0
    assert judgments.filter(client_time_ms__isnull=True).count() == 0
    assert Preference.objects.filter(task__campaign=campaign).count() == 80
    responses = Response.objects.filter(prompt__campaign=campaign)
    assert responses.count() == 60
    assert all(isinstance(r.metadata["sim_quality"], float) for r in responses)


@pytest.mark.django_db
def test_the_rater_api_shows_labels_and_texts_but_never_the_hidden_quality() -> None:
    simulate(
        "--create-campaign", "Sim leak", "--tasks", "3", "--raters", "1",
        "--judgments-per-rater", "1", "--prefix", "leak",
    )  # fmt: skip
    _, token = issue_token(user=User.objects.get(username="leak-01"))

    reply = Client(headers={"Authorization": f"Token {token}"}).post(NEXT)

    assert reply.status_code == 200
    assert [sorted(response) for response in reply.json()["responses"]] == [
        ["label", "text"],
        ["label", "text"],
    ]
    assert "sim_quality" not in reply.content.decode()


@pytest.mark.django_db
def test_a_fully_position_biased_rater_always_picks_the_response_shown_first() -> None:
    summary = simulate(
        "--create-campaign", "Sim position", "--tasks", "20", "--raters", "2",
        "--position-biased", "1", "--position-bias", "1.0", "--judgments-per-rater", "20",
        "--prefix", "pos",
    )  # fmt: skip

    assert summary["raters"][1]["traits"]["position_bias"] == 1.0
    shown_first = [p.chosen_shown_first for p in preferences_of("pos-02")]
    assert shown_first == [True] * 20
    assert {p.chosen_shown_first for p in preferences_of("pos-01")} == {True, False}


@pytest.mark.django_db
@pytest.mark.parametrize(("k", "pairs_per_judgment"), [(2, 1), (4, 6)])
def test_a_perfect_rater_always_prefers_the_higher_hidden_quality(
    tmp_path: Path, k: int, pairs_per_judgment: int
) -> None:
    traits = tmp_path / "traits.json"
    traits.write_text(json.dumps([{"accuracy": 1.0, "tie_rate": 0.0}]))

    summary = simulate(
        "--create-campaign", f"Sim perfect {k}", "--tasks", "15", "--responses-per-task",
        str(k), "--traits-file", str(traits), "--prefix", f"perfect{k}",
    )  # fmt: skip

    assert summary["judgments"] == 15
    assert summary["raters"][0]["stopped"] == "no_work"
    preferences = preferences_of(f"perfect{k}-01")
    assert len(preferences) == 15 * pairs_per_judgment
    assert all(quality(p.chosen) > quality(p.rejected) for p in preferences)


@pytest.mark.django_db
def test_a_spammer_answers_at_random_and_fast() -> None:
    simulate(
        "--create-campaign", "Sim spam", "--tasks", "30", "--raters", "2", "--spammers", "1",
        "--judgments-per-rater", "30", "--prefix", "spam",
    )  # fmt: skip

    spam = preferences_of("spam-02")
    assert len(spam) == 30
    assert {p.chosen_shown_first for p in spam} == {True, False}
    assert {quality(p.chosen) > quality(p.rejected) for p in spam} == {True, False}
    times = {
        name: statistics.median(
            judgment.client_time_ms or 0
            for judgment in Judgment.objects.filter(rater__username=name)
        )
        for name in ("spam-01", "spam-02")
    }
    assert times["spam-02"] < times["spam-01"] / 5


@pytest.mark.django_db
def test_a_second_run_reuses_the_campaign_users_and_pool() -> None:
    args = ("--create-campaign", "Sim again", "--tasks", "20", "--raters", "2",
            "--judgments-per-rater", "5", "--prefix", "again")  # fmt: skip
    first = simulate(*args)

    second = simulate(*args)

    assert [r["user_id"] for r in second["raters"]] == [r["user_id"] for r in first["raters"]]
    assert User.objects.filter(username__startswith="again-").count() == 2
    # Keys are never stored, so each run issues its own (expiring) tokens.
    assert ApiToken.objects.filter(user__username__startswith="again-").count() == 4
    pool = RaterPool.objects.get()
    assert pool.name == "Simulated raters: Sim again"
    assert sorted(pool.members.values_list("username", flat=True)) == ["again-01", "again-02"]
    assert list(pool.campaigns.values_list("name", flat=True)) == ["Sim again"]
    assert Campaign.objects.count() == 1
    assert RankingTask.objects.count() == 20
    assert Judgment.objects.count() == 20


@pytest.mark.django_db
def test_an_existing_campaign_without_hidden_quality_prefers_the_more_concise() -> None:
    campaign = make_campaign(
        name="Imported", responses_per_task=2, judgment_mode=JudgmentMode.PAIRWISE
    )
    for n in range(5):
        make_task(campaign, texts=[f"Short answer {n}.", f"A much longer answer, number {n}."])

    summary = simulate(
        "--campaign", "Imported", "--raters", "1", "--accuracy", "1", "--tie-rate", "0",
        "--prefix", "concise",
    )  # fmt: skip

    assert summary["judgments"] == 5
    chosen = [p.chosen.text for p in preferences_of("concise-01")]
    assert sorted(chosen) == [f"Short answer {n}." for n in range(5)]


@pytest.mark.django_db
def test_raters_that_could_be_handed_another_campaign_are_refused() -> None:
    other = make_campaign(name="Real work")
    make_task(other)
    rater = make_user(username="busy-01")
    make_pool(members=[rater], campaigns=[other])

    with pytest.raises(CommandError, match="also in pools open to 'Real work'"):
        simulate("--create-campaign", "Sim busy", "--tasks", "2", "--raters", "1",
                 "--prefix", "busy")  # fmt: skip

    assert list(Campaign.objects.values_list("name", flat=True)) == ["Real work"]
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_over_http_against_a_live_server(live_server: Any) -> None:
    summary = simulate(
        "--create-campaign", "Sim http", "--tasks", "5", "--raters", "2",
        "--judgments-per-rater", "3", "--base-url", live_server.url, "--prefix", "http",
    )  # fmt: skip

    assert summary["judgments"] == 6
    assert summary["errors"] == {}
    assert Judgment.objects.filter(task__campaign__name="Sim http").count() == 6


@pytest.mark.django_db
def test_a_server_that_cannot_be_reached_is_reported_not_raised() -> None:
    summary = simulate(
        "--create-campaign", "Sim down", "--tasks", "2", "--raters", "2",
        "--base-url", "http://127.0.0.1:9", "--prefix", "down",
    )  # fmt: skip

    assert summary["judgments"] == 0
    assert summary["errors"] == {"connection: ConnectionRefusedError": 2 * MAX_ERRORS_IN_A_ROW}
    assert [r["stopped"] for r in summary["raters"]] == ["errors", "errors"]


class ScriptedTransport:
    """Answers next with one pairwise assignment and submit with a fixed status."""

    def __init__(self, submit_status: int, code: str) -> None:
        self.submit_status, self.code = submit_status, code
        self.bodies: list[dict[str, Any]] = []

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        if path.endswith("/next/"):
            return 200, {
                "id": 7,
                "campaign": {"id": 1, "judgment_mode": "pairwise"},
                "conversation": [{"role": "user", "content": "Hi?"}],
                "responses": [{"label": "A", "text": "Hello."}, {"label": "B", "text": "Hey."}],
            }
        assert body is not None
        self.bodies.append(body)
        return self.submit_status, {"code": self.code, "detail": "refused"}

    def close(self) -> None:
        return None


@pytest.mark.parametrize(("status", "code"), [(409, "already_submitted"), (400, "invalid")])
def test_api_refusals_are_counted_and_a_rater_stops_after_repeated_ones(
    status: int, code: str
) -> None:
    transport = ScriptedTransport(status, code)
    rater = SimulatedRater("s-01", 1, RaterTraits(), transport, random.Random(1))
    said: list[str] = []
    simulation = Simulation(raters=[rater], qualities={}, campaign_id=1, limit=3, say=said.append)

    simulation.run()

    assert simulation.errors == {f"submit: HTTP {status} {code}": MAX_ERRORS_IN_A_ROW}
    assert (rater.submitted, rater.stopped, simulation.judgments) == (0, "errors", 0)
    assert said == [
        f"s-01: submit: HTTP {status} {code}: refused",
        f"s-01: stopped after {MAX_ERRORS_IN_A_ROW} errors in a row",
    ]
    keys = [body["idempotency_key"] for body in transport.bodies]
    assert len(set(keys)) == MAX_ERRORS_IN_A_ROW  # a fresh key for every submission
    assert all(body["strength"] for body in transport.bodies)


def test_a_paused_rater_stops_at_once() -> None:
    rater = SimulatedRater(
        "s-01", 1, RaterTraits(), ScriptedTransport(403, "rater_paused"), random.Random(1)
    )
    simulation = Simulation(raters=[rater], qualities={}, campaign_id=1, limit=3, say=print)

    simulation.run()

    assert simulation.errors == {"submit: HTTP 403 rater_paused": 1}
    assert rater.stopped == "paused"


@pytest.mark.parametrize(
    ("allowed", "host"),
    [(["example.org", "localhost"], "example.org"), ([".example.org"], "sim.example.org"),
     (["*"], "localhost"), ([], "localhost")],
)  # fmt: skip
def test_in_process_requests_use_a_host_the_settings_allow(
    settings: Any, allowed: list[str], host: str
) -> None:
    settings.ALLOWED_HOSTS = allowed

    assert in_process_host() == host


def _bad_traits(tmp_path: Path, content: str) -> str:
    path = tmp_path / "traits.json"
    path.write_text(content)
    return str(path)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--campaign", "nope"], "No campaign named 'nope'"),
        ([], "one of the arguments --create-campaign --campaign is required"),
        (["--create-campaign", "x", "--tasks", "-1"], "--tasks: must be at least 1, got -1"),
        (["--create-campaign", "x", "--raters", "0"], "--raters: must be at least 1, got 0"),
        (["--create-campaign", "x", "--spammers", "-2"], "--spammers: must be at least 0"),
        (["--create-campaign", "x", "--tasks", "two"], "must be a whole number, got 'two'"),
        (["--create-campaign", "x", "--accuracy", "1.5"], "--accuracy: must be between 0 and 1"),
        (["--create-campaign", "x", "--responses-per-task", "1"], "must be at least 2"),
        (["--create-campaign", "x", "--raters", "2", "--spammers", "3"], "only 2 raters"),
        (["--create-campaign", "x", "--base-url", "ftp://h"], "--base-url must look like"),
        (["--create-campaign", "x", "--prefix", "a b"], "--prefix may hold"),
        (["--create-campaign", "x", "--traits-file", "/nonexistent/t.json"], "Cannot read"),
        (["--create-campaign", "x", "--traits-file", "{not json"], "is not valid JSON"),
        (["--create-campaign", "x", "--traits-file", '{"accuracy": 1}'], "non-empty JSON list"),
        (["--create-campaign", "x", "--traits-file", "[]"], "non-empty JSON list"),
        (["--create-campaign", "x", "--traits-file", "[3]"], "rater 1: traits must be a JSON"),
        (["--create-campaign", "x", "--traits-file", '[{}, {"acuracy": 1}]'], "unknown trait"),
        (["--create-campaign", "x", "--traits-file", '[{"accuracy": 2}]'], "between 0 and 1"),
        (["--create-campaign", "x", "--traits-file", '[{"spam": 1}]'], "spam must be true"),
        (["--create-campaign", "x", "--traits-file", '[{"ms_per_word": 0}]'], "positive"),
    ],
)
def test_bad_arguments_are_a_command_error(tmp_path: Path, args: list[str], message: str) -> None:
    if "--traits-file" in args and not args[-1].startswith("/"):
        args = [*args[:-1], _bad_traits(tmp_path, args[-1])]

    with pytest.raises(CommandError, match=re.escape(message)):
        simulate(*args)

    assert not Campaign.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_reusing_a_campaign_name_with_another_k_is_refused() -> None:
    simulate("--create-campaign", "Sim k", "--tasks", "2", "--raters", "1",
             "--judgments-per-rater", "1", "--prefix", "k")  # fmt: skip

    with pytest.raises(CommandError, match="exists with 2 responses per task, not 3"):
        simulate("--create-campaign", "Sim k", "--responses-per-task", "3", "--prefix", "k")


# -- the pure behaviour model ---------------------------------------------------------------


def pair(first_quality: float, second_quality: float) -> list[ShownResponse]:
    return [
        ShownResponse("A", "short", first_quality),
        ShownResponse("B", "a much longer text", second_quality),
    ]


def choices(traits: RaterTraits, shown: list[ShownResponse], n: int = 2000) -> list[str]:
    rng = random.Random(5)
    decisions = [decide(traits, shown, pairwise=True, prompt_words=5, rng=rng) for _ in range(n)]
    return [d.ranking[0][0] if len(d.ranking) == 2 else "tie" for d in decisions]


def test_pairwise_behaviour_follows_each_trait() -> None:
    no_ties = RaterTraits(tie_rate=0.0)
    better_second = pair(0.2, 0.9)

    assert set(choices(RaterTraits(accuracy=1.0, tie_rate=0.0), better_second)) == {"B"}
    assert set(choices(RaterTraits(accuracy=0.0, tie_rate=0.0), better_second)) == {"A"}
    assert set(choices(RaterTraits(position_bias=1.0, tie_rate=0.0), better_second)) == {"A"}
    assert set(choices(RaterTraits(length_bias=1.0, tie_rate=0.0), pair(0.9, 0.2))) == {"B"}
    assert choices(no_ties, better_second).count("B") / 2000 == pytest.approx(0.85, abs=0.03)
    spam = choices(RaterTraits(spam=True, tie_rate=0.0), better_second)
    assert spam.count("B") / 2000 == pytest.approx(0.5, abs=0.04)
    ties = choices(RaterTraits(tie_rate=0.1), better_second)
    assert ties.count("tie") / 2000 == pytest.approx(0.1, abs=0.02)


def test_a_tie_is_about_same_and_a_choice_never_is() -> None:
    rng = random.Random(3)
    traits = RaterTraits(tie_rate=0.5)
    for _ in range(200):
        decision = decide(traits, pair(0.1, 0.8), pairwise=True, prompt_words=3, rng=rng)
        assert (len(decision.ranking) == 1) == (decision.strength == "about_same")


@pytest.mark.parametrize("accuracy", [0.6, 0.8, 0.95])
def test_noisy_sort_keeps_each_truly_adjacent_pair_with_probability_accuracy(
    accuracy: float,
) -> None:
    shown = [
        ShownResponse(label, label, q)
        for label, q in zip("ABCD", (0.3, 0.9, 0.1, 0.6), strict=True)
    ]
    truth = ["B", "D", "A", "C"]
    rng = random.Random(11)
    kept = 0
    trials = 3000
    for _ in range(trials):
        order = [r.label for r in noisy_sort(shown, accuracy, rng)]
        kept += sum(order.index(a) < order.index(b) for a, b in itertools.pairwise(truth))
    assert kept / (3 * trials) == pytest.approx(accuracy, abs=0.02)


def test_rank_mode_position_bias_keeps_the_display_order_and_sends_no_strength() -> None:
    shown = [ShownResponse(label, label * n, 0.1 * n) for n, label in enumerate("ABCD", 1)]

    decision = decide(
        RaterTraits(position_bias=1.0), shown, pairwise=False, prompt_words=1, rng=random.Random()
    )

    assert decision.ranking == [["A"], ["B"], ["C"], ["D"]]
    assert decision.strength == ""


def test_reading_time_is_lognormal_around_words_times_ms_per_word() -> None:
    rng = random.Random(2)
    shown = pair(0.5, 0.6)  # 1 + 4 words, plus 5 in the prompt: 10 words
    times = [
        decide(RaterTraits(ms_per_word=200), shown, pairwise=True, prompt_words=5, rng=rng)
        for _ in range(2001)
    ]
    assert statistics.median(d.client_time_ms for d in times) == pytest.approx(2000, rel=0.05)


def test_synthetic_response_length_is_independent_of_quality() -> None:
    prompts = synthetic_prompts(1500, 2, random.Random(4))
    responses = [r for p in prompts for r in p.responses]
    words = [len(r.text.split()) for r in responses]
    characters = [len(r.text) for r in responses]
    qualities = [r.quality for r in responses]

    assert abs(statistics.correlation(words, qualities)) < 0.05
    assert abs(statistics.correlation(characters, qualities)) < 0.05
    assert max(words) - min(words) >= 30
    assert len({p.prompt for p in prompts}) == 1500
    assert all(len({r.text for r in p.responses}) == 2 for p in prompts)


def test_assign_traits_puts_biased_raters_and_spammers_last() -> None:
    clean = RaterTraits(accuracy=0.9)

    traits = assign_traits(
        6, clean=clean, position_biased=1, position_bias=0.7, length_biased=2, spammers=1
    )

    assert traits[:2] == [clean, clean]
    assert traits[2].position_bias == 0.7
    assert [t.length_bias for t in traits[3:5]] == [0.8, 0.8]
    assert (traits[5].spam, traits[5].accuracy, traits[5].ms_per_word) == (True, 0.5, 15.0)
    with pytest.raises(TraitsInvalid):
        assign_traits(2, clean=clean, spammers=3)


def test_concise_quality_prefers_fewer_words_but_not_an_empty_answer() -> None:
    assert concise_quality("one two") > concise_quality("one two three four")
    assert concise_quality("one") > concise_quality("one two")
    assert concise_quality("") == concise_quality("  \n ") == 0.0
