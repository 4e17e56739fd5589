"""A demo annotator ranks in real headless Chromium: by keyboard, by drag and drop, pairwise
with strength, skips, reloads mid-task, loses the network on submit, loses the session; and the
database holds exactly the tiers that were entered."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from annotation.management.commands.seed_demo import PAIR_CAMPAIGN, RANK_CAMPAIGN
from annotation.models import Assignment, AssignmentStatus, Campaign, CampaignStatus, Judgment
from annotation.services.raters import create_user_with_role
from common.roles import Role

from .conftest import PASSWORD, PHONE, Browser, screenshot
from .helpers import (
    focused_label,
    log_in,
    rank_badge,
    response_texts,
    stored_tiers,
    task_id,
    wait_for_next_task,
)

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]


def press(page: Any, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def card_boxes(page: Any) -> list[dict[str, float]]:
    return [card.bounding_box() for card in page.locator("article.response").all()]


def side_by_side(boxes: list[dict[str, float]]) -> bool:
    return len({round(box["y"]) for box in boxes}) == 1 and len({box["x"] for box in boxes}) > 1


def stacked(boxes: list[dict[str, float]]) -> bool:
    return len({round(box["x"]) for box in boxes}) == 1 and all(
        a["y"] + a["height"] <= b["y"] for a, b in pairwise(boxes)
    )


def pressed(page: Any, button: str) -> str | None:
    return page.get_by_role("button", name=button, exact=True).get_attribute("aria-pressed")


def test_keyboard_drag_and_drop_and_skip(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "annotator1")
    first = task_id(page)
    open_and_close_the_key_list_and_the_guidelines(page)
    assert stacked(card_boxes(page))  # K = 4: a list

    second, third, fourth = rank_three_tasks_by_keyboard(page, first)
    fifth = rank_by_drag_and_drop(page, fourth)
    sixth = skip_with_a_reason(page, fifth)
    press(page, "2", "1")
    page.get_by_label("Factually wrong: response B").check()
    screenshot(page, "annotate-rank-1280")

    assert stored_tiers(first) == [["B"], ["A", "C"], ["D"]]
    assert stored_tiers(second) == [["D"], ["C"], ["B"], ["A"]]
    assert stored_tiers(third) == [["B", "C"], ["D"], ["A"]]
    assert stored_tiers(fourth) == [["A"], ["C", "D"], ["B"]]
    skipped = Assignment.objects.get(pk=fifth)
    assert skipped.status == AssignmentStatus.SKIPPED
    assert skipped.skip_reason == "The prompt is unclear or broken: two questions in one"
    assert Assignment.objects.get(pk=sixth).status == AssignmentStatus.LEASED
    assert Judgment.objects.filter(rater__username="annotator1").count() == 4


def open_and_close_the_key_list_and_the_guidelines(page: Any) -> None:
    """The key list opens with ? and closes with Escape; g folds the guidelines."""
    assert focused_label(page) == "A"
    press(page, "?")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    screenshot(page, "keys-dialog-1280")
    press(page, "Escape")
    assert not page.get_by_role("dialog").is_visible()
    guidelines = page.locator(".guidelines details")
    assert guidelines.get_attribute("open") is not None  # open beside the task on wide screens
    press(page, "g")
    assert guidelines.get_attribute("open") is None
    press(page, "g")
    assert guidelines.get_attribute("open") is not None
    assert focused_label(page) == "A"


def rank_three_tasks_by_keyboard(page: Any, first: int) -> tuple[int, int, int]:
    """Returns the ids of the tasks shown after each submission."""
    # 1: digits per response, the same digit twice is a tie.
    press(page, "2", "1", "2", "4")
    assert [rank_badge(page, x) for x in "ABCD"] == ["tied 2nd", "1st", "tied 2nd", "4th"]
    press(page, "Enter")
    second = wait_for_next_task(page, first)

    # 2: a strict order.
    press(page, "4", "3", "2", "1", "Enter")
    third = wait_for_next_task(page, second)

    # 3: the tie key, then arrows back to A to change its rank.
    press(page, "1", "2", "=", "3", "ArrowUp", "ArrowUp", "ArrowUp")
    assert focused_label(page) == "A"
    press(page, "4", "Enter")
    return second, third, wait_for_next_task(page, third)


def rank_by_drag_and_drop(page: Any, current: int) -> int:
    """In "Your ranking": insert, insert before, tie by dropping on a row. Returns the next
    task's id."""
    rail = page.locator(".rail")
    rail.locator('[data-chip="C"]').drag_to(rail.locator('[data-gap="end"]'))
    rail.locator('[data-chip="A"]').drag_to(rail.locator('[data-gap="C"]'))
    rail.locator('[data-chip="D"]').drag_to(rail.locator('[data-tier="C"]'))
    rail.locator('[data-chip="B"]').drag_to(rail.locator('[data-gap="end"]'))
    assert [rank_badge(page, x) for x in "ABCD"] == ["1st", "4th", "tied 2nd", "tied 2nd"]
    page.get_by_role("button", name="Submit", exact=True).click()
    following = wait_for_next_task(page, current)
    page.get_by_test_id("notice").filter(has_text="Saved.").wait_for()
    page.get_by_test_id("done-today").filter(has_text="4").wait_for()
    return following


def skip_with_a_reason(page: Any, current: int) -> int:
    page.get_by_role("button", name="Skip…").click()
    page.get_by_label("The prompt is unclear or broken").check()
    page.get_by_label("More detail (optional)").fill("two questions in one")
    page.get_by_role("button", name="Skip task").click()
    return wait_for_next_task(page, current)


def test_pairwise_with_strength_by_key_and_by_button(browser: Browser) -> None:
    Campaign.objects.filter(name=RANK_CAMPAIGN).update(status=CampaignStatus.PAUSED)
    page = browser.page()
    log_in(page, "annotator2")
    first = task_id(page)
    page.get_by_role("heading", name=PAIR_CAMPAIGN).wait_for()
    assert page.locator("article.response").count() == 2
    assert side_by_side(card_boxes(page))  # K = 2 on a wide screen

    press(page, "3")
    assert pressed(page, "A slightly better") == "true"
    press(page, "6")
    assert (pressed(page, "A slightly better"), pressed(page, "B better")) == ("false", "true")
    screenshot(page, "annotate-pairwise-1280")
    press(page, "Enter")
    second = wait_for_next_task(page, first)

    page.get_by_role("button", name="About the same").click()
    page.get_by_role("button", name="Submit", exact=True).click()
    wait_for_next_task(page, second)

    one, two = Judgment.objects.get(assignment_id=first), Judgment.objects.get(assignment_id=second)
    assert (stored_tiers(first), one.strength) == ([["B"], ["A"]], "better")
    assert (stored_tiers(second), two.strength) == ([["A", "B"]], "about_same")


def test_draft_survives_reload_and_a_lost_submit_is_stored_once(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "annotator1")
    first = keep_a_draft_through_a_reload(page)
    second = submit_through_a_flaky_network(page, first)
    third = sign_in_again_after_the_session_ended(page, second)
    submit_after_the_lease_ran_out(page, third)
    assert Judgment.objects.filter(rater__username="annotator1").count() == 3


def keep_a_draft_through_a_reload(page: Any) -> int:
    first = task_id(page)
    texts = response_texts(page)

    press(page, "3", "1")
    page.get_by_label("Factually wrong: response B").check()
    page.get_by_label("Other problem").check()
    page.get_by_label("Rationale (optional)").fill("B cites 1969")
    page.locator("#response-C").focus()  # ticking B's flag moved the focus to B
    page.reload()

    assert task_id(page) == first
    assert response_texts(page) == texts
    assert [rank_badge(page, x) for x in "ABCD"] == ["3rd", "1st", "not ranked", "not ranked"]
    assert page.get_by_label("Factually wrong: response B").is_checked()
    assert not page.get_by_label("Factually wrong: response A").is_checked()
    assert page.get_by_label("Other problem").is_checked()
    assert page.get_by_label("Rationale (optional)").input_value() == "B cites 1969"
    assert focused_label(page) == "C"
    return first


def submit_through_a_flaky_network(page: Any, first: int) -> int:
    """First the request never arrives, then the server stores it but the answer is lost,
    then nothing gets through; a reload in between keeps the pending submit."""
    attempts: list[str] = []

    def flaky(route: Any) -> None:
        attempts.append(route.request.post_data_json["idempotency_key"])
        if len(attempts) == 2:
            route.fetch()
        route.abort("internetdisconnected")

    page.route("**/api/v1/assignments/*/submit/", flaky)
    press(page, "2", "4", "Enter")
    page.get_by_test_id("pending").filter(has_text="Not sent yet").wait_for()
    page.wait_for_function("() => document.body.innerText.includes('attempt 3')", timeout=15_000)
    assert Judgment.objects.filter(assignment_id=first).count() == 1
    page.reload()
    page.get_by_test_id("pending").filter(has_text="Not sent yet").wait_for()

    page.unroute("**/api/v1/assignments/*/submit/")
    second = wait_for_next_task(page, first)
    page.get_by_test_id("notice").filter(has_text="already had this submission").wait_for()
    assert len(attempts) >= 4
    assert len(set(attempts)) == 1, "every retry reuses the idempotency key"
    judgment = Judgment.objects.get(rater__username="annotator1")
    assert judgment.assignment_id == first
    assert judgment.idempotency_key == attempts[0]
    assert (judgment.flags, judgment.rationale) == (["other"], "B cites 1969")
    b_id = judgment.assignment.display_order[1]
    assert judgment.response_flags == {str(b_id): ["factually_wrong"]}
    assert stored_tiers(first) == [["B"], ["C"], ["A"], ["D"]]
    return second


def sign_in_again_after_the_session_ended(page: Any, second: int) -> int:
    """Back to the sign-in page mid-task, the work kept and sent after it."""
    press(page, "1", "1")
    page.context.clear_cookies()
    press(page, "2", "3", "Enter")
    page.get_by_test_id("login-notice").filter(has_text="session ended").wait_for()
    page.get_by_label("Username").fill("annotator1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    third = wait_for_next_task(page, second)
    assert stored_tiers(second) == [["A", "B"], ["C"], ["D"]]
    return third


def submit_after_the_lease_ran_out(page: Any, third: int) -> None:
    """The page says so, and the late submission is still kept."""
    Assignment.objects.filter(pk=third).update(expires_at=timezone.now() - timedelta(minutes=1))
    page.reload()
    page.get_by_test_id("lease-expired").wait_for()
    press(page, "1", "2", "3", "4", "Enter")
    page.get_by_test_id("notice").filter(has_text="still kept").wait_for()
    assert Judgment.objects.get(assignment_id=third).was_late


def test_server_out_of_reach_on_reload_keeps_the_pending_submission(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "annotator2")
    first = task_id(page)
    page.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    press(page, "1", "2", "3", "4", "Enter")
    page.get_by_test_id("pending").filter(has_text="Not sent yet").wait_for()

    page.reload()
    page.get_by_role("heading", name="The server cannot be reached").wait_for()
    page.unroute("**/api/v1/**")
    page.get_by_role("button", name="Try again").click()

    wait_for_next_task(page, first)
    assert stored_tiers(first) == [["A"], ["B"], ["C"], ["D"]]


def test_navigation_by_role_and_no_work_left(browser: Browser) -> None:
    create_user_with_role(username="newcomer", password=PASSWORD, role=Role.ANNOTATOR)
    expected = {
        "newcomer": ["Annotate"],
        "admin": ["Annotate", "Console", "Training"],
        "mlengineer": ["Annotate", "Training"],
    }
    for username, links in expected.items():
        page = browser.page()
        log_in(page, username)
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link").all_inner_texts() == links
        if username == "newcomer":
            page.get_by_role("heading", name="No tasks left for you").wait_for()
        else:
            nav.get_by_role("link", name="Training").click()
            page.get_by_role("heading", name="Runs", exact=True).wait_for()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in to RLHF Studio").wait_for()

    page = browser.page()
    log_in(page, "mlengineer")
    page.goto("/console")
    page.get_by_role("heading", name="Not available to your role").wait_for()


def test_phone_width_uses_rank_buttons_and_never_drags(browser: Browser) -> None:
    page = browser.page(**PHONE)
    log_in(page, "annotator3")
    first = task_id(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator('.rail [draggable="true"]').count() == 0
    sizes = page.locator("#response-A .rank-button").evaluate_all(
        "els => els.map(e => Math.min(e.offsetWidth, e.offsetHeight))"
    )
    assert min(sizes) >= 44
    for label, rank in zip("ABCD", ["2nd", "1st", "3rd", "4th"], strict=True):
        page.get_by_role("button", name=f"{rank[0]}, rank {label} {rank}").tap()
    screenshot(page, "annotate-rank-375")
    page.get_by_role("button", name="Submit", exact=True).tap()
    wait_for_next_task(page, first)
    assert stored_tiers(first) == [["B"], ["A"], ["C"], ["D"]]

    Campaign.objects.filter(name=RANK_CAMPAIGN).update(status=CampaignStatus.PAUSED)
    Assignment.objects.filter(rater__username="annotator3", status="leased").delete()
    page.reload()
    page.get_by_role("button", name="A better").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert stacked(card_boxes(page))  # K = 2 on a narrow screen: a list too
    screenshot(page, "annotate-pairwise-375")
