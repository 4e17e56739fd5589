"""What a rater does in the browser, what the database then holds, and what axe-core (from the
front end's npm dev dependencies) finds on a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotation.models import Assignment, Judgment

from .conftest import PASSWORD, Browser

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map(v => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3)
    .map(n => n.target.join(' ')).join(', ')}`);
}"""


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("main#main:not(.login)").wait_for()


def task_id(page: Any) -> int:
    page.locator("main[data-assignment-id]").wait_for()
    return int(page.locator("main[data-assignment-id]").get_attribute("data-assignment-id"))


def wait_for_next_task(page: Any, previous: int) -> int:
    page.wait_for_function(
        "id => { const m = document.querySelector('main[data-assignment-id]');"
        " return m && m.dataset.assignmentId !== String(id); }",
        arg=previous,
    )
    return task_id(page)


def focused_label(page: Any) -> str | None:
    return page.evaluate("document.activeElement?.closest('article.response')?.dataset.label")


def rank_badge(page: Any, label: str) -> str:
    text = page.locator(f"#response-{label}-rank").text_content() or ""
    return " ".join(text.split()).removeprefix("Rank: ")


def response_texts(page: Any) -> list[str]:
    return page.locator("article.response .response-body").all_inner_texts()


def stored_tiers(assignment_id: int) -> list[list[str]]:
    """The judgment's tiers, written back as the labels the rater saw."""
    assignment = Assignment.objects.get(pk=assignment_id)
    label_of = {rid: chr(ord("A") + i) for i, rid in enumerate(assignment.display_order)}
    judgment = Judgment.objects.get(assignment=assignment)
    return [sorted(label_of[rid] for rid in tier) for tier in judgment.ranking]


def audited_page(browser: Browser, **options: Any) -> Any:
    """A page that axe-core can check: `violations(page)`."""
    page = browser.page(**options)
    page.context.add_init_script(path=str(AXE))  # injected by the browser, outside the CSP
    return page


def violations(page: Any) -> list[str]:
    return list(page.evaluate(RUN_AXE))
