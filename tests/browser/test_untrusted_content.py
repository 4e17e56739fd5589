"""Model output, prompts and guidelines are untrusted: script in any of them renders as inert
text, and the page never shows which model wrote a response."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.models import Campaign, Prompt, RankingTask, Response
from annotation.services.raters import create_user_with_role
from common.roles import Role
from tests.factories import make_pool

from .conftest import PASSWORD, Browser
from .helpers import log_in, task_id

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

GENERATOR = "Hyperion-70B-secret-checkpoint"
LONG_TAIL = "\n".join(f"{n}. a step of the long answer" for n in range(1, 80))
RESPONSES = [
    "<script>window.__xss = 'script'</script>Plain words after a script tag.\n\n" + LONG_TAIL,
    "<img src=x onerror=\"window.__xss = 'img'\"> An image with a handler. ![pic](https://example.com/t.png)",
    "<svg onload=\"window.__xss = 'svg'\"><circle r='5'/></svg> An inline SVG.\n\n"
    "```python\nprint('highlighted')\n```",
    "[Click me](javascript:window.__xss='link') [Me too](JaVaScRiPt:alert(1)) "
    '<a href="javascript:alert(2)">raw anchor</a> [data](data:text/html;base64,PHNjcmlwdD4=) '
    "[docs](https://example.com/docs) A careful answer.",
]
CONVERSATION = [
    {"role": "system", "content": "Be helpful. <script>window.__xss = 'system'</script>"},
    {"role": "user", "content": "Hi <img src=x onerror=\"window.__xss = 'turn'\">"},
    {"role": "assistant", "content": "Hello! [continue](javascript:window.__xss='turn-link')"},
    {
        "role": "user",
        "content": "**Which** answer is best? <svg onload=\"window.__xss = 'turn2'\">",
    },
]
GUIDELINES = "# Rules\n<script>window.__xss = 'guidelines'</script>\n[help](javascript:alert(3))"

HAS_HANDLER = """() => [...document.querySelectorAll('#main *')].some(
    el => [...el.attributes].some(a => a.name.toLowerCase().startsWith('on')))"""
UNSAFE_LINKS = """() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
    .filter(h => !/^(https?:|mailto:|#|\\/)/i.test(h))"""


def make_hostile_task() -> None:
    campaign = Campaign.objects.create(
        name="Hostile output", guidelines=GUIDELINES, responses_per_task=4, overlap=1
    )
    prompt = Prompt.objects.create(campaign=campaign, conversation=CONVERSATION)
    responses = [
        Response.objects.create(prompt=prompt, text=text, generator=GENERATOR) for text in RESPONSES
    ]
    RankingTask.objects.create(
        campaign=campaign,
        prompt=prompt,
        response_ids=[r.pk for r in responses],
        required_judgments=1,
    )
    rater = create_user_with_role(username="wary", password=PASSWORD, role=Role.ANNOTATOR)
    make_pool(members=[rater], campaigns=[campaign])


def article_with(page: Any, text: str) -> Any:
    return page.locator("article.response").filter(has_text=text)


def test_script_in_output_prompt_and_guidelines_is_inert(browser: Browser) -> None:
    make_hostile_task()
    page = browser.page()
    log_in(page, "wary")
    assignment = task_id(page)
    page.get_by_text("Plain words after a script tag.").wait_for()

    # Shown as text, not run.
    assert page.get_by_text("<img src=x onerror=").first.is_visible()
    assert page.locator(".turn").count() == 4
    assert page.locator(".turn-role").all_inner_texts() == ["System", "User", "Assistant", "User"]
    article_with(page, "Click me").get_by_text("Click me").click()
    page.get_by_role("button", name="Show all of", exact=False).first.click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#main script, #main img, #main svg, #main iframe").count() == 0
    assert page.evaluate(HAS_HANDLER) is False
    assert page.evaluate(UNSAFE_LINKS) == []
    assert page.url.endswith("/annotate")

    # Safe markdown still works: links open apart, code is highlighted, long text folds.
    docs = page.get_by_role("link", name="docs")
    assert docs.get_attribute("href") == "https://example.com/docs"
    assert docs.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.locator("pre code.language-python .hljs-built_in").inner_text() == "print"
    long_one = article_with(page, "Plain words after a script tag.")
    assert long_one.get_by_role("button", name="Show less of").get_attribute("aria-expanded") == (
        "true"
    )

    # The generator is never named: not on the page, not in what the API sent it.
    api_text = page.evaluate(
        "async id => (await fetch(`/api/v1/assignments/${id}/`)).text()", assignment
    )
    assert GENERATOR not in api_text
    assert GENERATOR not in page.content()
    assert "generator" not in api_text


def test_the_page_carries_a_content_security_policy(browser: Browser) -> None:
    page = browser.page()
    response = page.goto("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
