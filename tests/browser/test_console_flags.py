"""An admin reads what raters flagged and wrote beside each judgment in the campaign's detail:
flags as badges (a flagged response named with the start of its text), the rationale as plain
text (a rationale is untrusted input)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Response
from annotation.ranking import labels_for
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment

from .conftest import Browser, screenshot
from .helpers import audited_page, log_in, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

HOSTILE = "<img src=x onerror=\"document.title='pwned'\"> **not bold** B cites 1969"


def test_flags_and_rationales_show_beside_their_judgments(browser: Browser) -> None:
    rater = get_user_model().objects.get(username="annotator1")
    unsafe_id = 0
    for n, (flags, rationale) in enumerate(
        ((["all_bad"], HOSTILE), ([], ""), ([], "Close call between A and C."))
    ):
        assignment = claim_next_assignment(rater=rater)
        assert assignment is not None
        ranking = [[label] for label in labels_for(len(assignment.display_order))]
        on_b = {"B": ["unsafe"]} if flags else {}
        unsafe_id = unsafe_id or assignment.display_order[1]
        submission = Submission(
            ranking, f"flags-{n}", flags=flags, response_flags=on_b, rationale=rationale
        )
        submit_judgment(rater=rater, assignment_id=assignment.pk, submission=submission)

    page = audited_page(browser)
    log_in(page, "admin")
    page.goto("/console")
    page.get_by_role("button", name=f"Manage {RANK_CAMPAIGN}").click()
    panel = page.get_by_test_id("annotated-judgments")
    panel.get_by_text("Close call between A and C.").wait_for()

    items = panel.locator(".annotated-list > li")
    assert items.count() == 2  # the plain judgment is not listed
    assert items.nth(1).locator(".flag-list .flag").all_inner_texts() == ["All responses are bad"]
    flagged = items.nth(1).locator(".flagged-responses li")
    excerpt = Response.objects.get(pk=unsafe_id).text[:160]
    assert flagged.locator(".flag").all_inner_texts() == ["Unsafe"]
    assert f"response {unsafe_id}" in flagged.inner_text()
    assert flagged.locator(".excerpt").inner_text().split() == excerpt.split()
    assert items.nth(1).locator(".rationale").inner_text() == HOSTILE  # as typed, not markup
    assert items.nth(1).locator("img").count() == 0
    assert page.title() != "pwned"
    assert "annotator1" in items.first.inner_text()
    assert violations(page) == []
    screenshot(page, "console-flags")
