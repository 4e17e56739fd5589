"""A generated corpus of hostile markdown/HTML (tests/browser/hostile_payloads.py: over 1,000
payloads from vector x encoding x context) in every free text the app shows: responses, prompts,
guidelines, campaign, pool and user names, pause reasons and the audit log, model version names,
a run's error and log. Rendered in Chromium on the annotate page, the console and the training
dashboard, none runs: nothing calls the recording function, nothing loads a watched URL, the
Content-Security-Policy has nothing to block, and no element or attribute that could run script
reaches the page; the payloads' own «id» tags show each view rendered what it was given."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotation.models import Campaign, Prompt, RankingTask, Response
from annotation.services.judgments import Submission, submit_judgment
from annotation.services.pools import change_pool_members, create_pool
from annotation.services.raters import create_user_with_role, pause_rater
from common.roles import Role
from tests.factories import make_pool
from training.models import ModelVersion, RunKind, RunStatus, TrainingRun

from .conftest import PASSWORD, Browser
from .helpers import log_in, task_id
from .hostile_payloads import MARKER, Payload, generate, short
from .test_console import SECTIONS, open_section

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

TASKS = 6
TURNS = 3  # user, assistant, user
WATCH = """() => {
  window.__pwned = [];
  window.__pwn = id => window.__pwned.push(id);
  window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
}"""
# What could run script or load from elsewhere, wherever it sits in the page.
DANGEROUS = """() => {
  const found = [];
  const risky = /^(javascript|vbscript|data):/;
  for (const el of document.querySelectorAll('body *')) {
    if (/^(SCRIPT|IFRAME|FRAME|OBJECT|EMBED|BASE|META|LINK|STYLE)$/.test(el.tagName))
      found.push(el.tagName);
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc' || name === 'formaction') found.push(name);
      else if (risky.test(value)) found.push(`${name}=${value.slice(0, 40)}`);
      else if (name === 'style' && /expression|url\\(/.test(value)) found.push('style');
    }
  }
  return found;
}"""
SIGNED_OUT = "the server responded with a status of 401"
RENDERED = "() => document.querySelector('#main')?.textContent ?? ''"


@dataclass
class Watch:
    """What each page view let through; all must stay empty."""

    views: int = 0
    rendered: set[int] = field(default_factory=set)
    executions: list[int] = field(default_factory=list)
    csp_blocks: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> Any:
        page.context.add_init_script(f"({WATCH})()")
        page.on("request", self._request)
        page.on("console", self._console)
        return page

    def _request(self, request: Any) -> None:
        if "__pwned" in request.url.lower():
            self.loads.append(request.url)

    def _console(self, message: Any) -> None:
        # The sign-in page asks who is signed in before anyone is: that 401 is expected.
        if message.type == "error" and SIGNED_OUT not in message.text:
            self.console_errors.append(message.text)

    def check(self, page: Any, expected: set[int], where: str) -> None:
        """Collects what this view let through, and that it rendered every payload it holds."""
        page.wait_for_timeout(150)  # handlers of loaded/errored elements fire asynchronously
        self.views += 1
        self.executions += page.evaluate("window.__pwned")
        self.csp_blocks += page.evaluate("window.__csp")
        self.dangerous += [f"{where}: {d}" for d in page.evaluate(DANGEROUS)]
        shown = {int(n) for n in MARKER.findall(page.evaluate(RENDERED))}
        self.rendered |= shown
        missing = sorted(expected - shown)
        assert missing == [], f"{where}: {len(missing)} payloads not rendered, e.g. {missing[:5]}"


def joined(payloads: list[Payload]) -> str:
    return "\n\n".join(p.text for p in payloads)


def ids(payloads: list[Payload]) -> set[int]:
    return {p.id for p in payloads}


def slices(items: list[Payload], parts: int) -> list[list[Payload]]:
    size = -(-len(items) // parts)
    return [items[i * size : (i + 1) * size] for i in range(parts)]


@dataclass
class Corpus:
    payloads: list[Payload]
    rater: User
    campaign: Campaign
    per_task: list[set[int]]
    names: dict[str, list[Payload]]
    run: TrainingRun


def seed_annotation(
    payloads: list[Payload], names: list[Payload]
) -> tuple[Campaign, list[set[int]]]:
    """One campaign whose name, guidelines, prompts and responses are hostile: every payload
    sits in some task's responses or turns."""
    campaign = Campaign.objects.create(
        name=names[0].text, guidelines=joined(payloads[:40]), responses_per_task=4, overlap=1
    )
    per_task = []
    for chunk in slices(payloads, TASKS):
        parts = slices(chunk, 4 + TURNS)
        roles = ["user", "assistant", "user"]
        prompt = Prompt.objects.create(
            campaign=campaign,
            conversation=[
                {"role": r, "content": joined(p)} for r, p in zip(roles, parts[4:], strict=True)
            ],
        )
        responses = [Response.objects.create(prompt=prompt, text=joined(p)) for p in parts[:4]]
        RankingTask.objects.create(
            campaign=campaign,
            prompt=prompt,
            response_ids=[r.pk for r in responses],
            required_judgments=1,
        )
        per_task.append(ids(chunk) | ids(payloads[:40]) | {names[0].id})
    return campaign, per_task


def seed_console(
    admin: User, names: list[Payload], reasons: list[Payload]
) -> dict[str, list[Payload]]:
    """Campaigns, raters (some paused with a reason) and pools named by payloads; the pauses
    and pool changes leave audit events carrying those names."""
    campaigns, raters, pools = names[3:23], names[23:43], names[43:51]
    for payload in campaigns:
        Campaign.objects.create(name=payload.text, responses_per_task=2, overlap=1)
    users = [
        create_user_with_role(username=p.text, password=PASSWORD, role=Role.ANNOTATOR)
        for p in raters
    ]
    for payload, member in zip(pools, users, strict=False):
        pool = create_pool(actor=admin, name=payload.text)
        change_pool_members(actor=admin, pool=pool, add=[member.pk])
    # Last, so their events (the reason is in the details) are on the audit log's first page.
    for user, reason in zip(users[:10], reasons, strict=True):
        pause_rater(actor=admin, user_id=user.pk, reason=reason.text)
    return {"campaigns": campaigns, "raters": raters, "reasons": reasons, "pools": pools}


def seed_training(
    campaign: Campaign, owner: User, payloads: list[Payload], names: list[Payload]
) -> TrainingRun:
    """Model versions named by payloads and a failed run whose error and log are hostile (a
    pipeline's output is as untrusted as a model's)."""
    versions = [
        ModelVersion.objects.create(
            name=p.text, kind="reward", base=p.text, artifact_path="/a", campaign=campaign
        )
        for p in names
    ]
    return TrainingRun.objects.create(
        kind=RunKind.PPO,
        status=RunStatus.FAILED,
        base=names[0].text,
        campaign=campaign,
        reward_version=versions[0],
        created_by=owner,
        error=joined(payloads[:60]),
        log_tail="\n".join(p.text for p in payloads[60:120]),
    )


@pytest.fixture
def corpus(browser: Browser) -> Corpus:
    payloads = generate()
    names = short(payloads, 140)
    campaign, per_task = seed_annotation(payloads, names)
    rater = create_user_with_role(username=names[1].text, password=PASSWORD, role=Role.ANNOTATOR)
    make_pool(members=[rater], campaigns=[campaign], name=names[2].text)
    admin = User.objects.get(username="admin")
    reasons = [p for p in payloads if len(p.text) <= 500][200:210]
    seeded = seed_console(admin, names, reasons)
    seeded["training"] = names[60:70]
    run = seed_training(campaign, rater, payloads, names[60:70])
    return Corpus(payloads, rater, campaign, per_task, seeded, run)


def view_annotate(browser: Browser, corpus: Corpus, watch: Watch) -> None:
    """Each task in turn, every folded response opened; judged between views (as the rater
    would) so the next one comes."""
    page = watch.attach(browser.page())
    log_in(page, corpus.rater.username)
    for n, expected in enumerate(corpus.per_task):
        assignment = task_id(page)
        page.locator("article.response").first.wait_for()
        folded = page.get_by_role("button", name="Show all of", exact=False)
        for _ in range(4):  # each click turns its button into "Show less of"
            if folded.count():
                folded.first.click()
        watch.check(page, expected | {int(MARKER.findall(corpus.rater.username)[0])}, "annotate")
        submit_judgment(
            rater=corpus.rater,
            assignment_id=assignment,
            submission=Submission(ranking=[["A"], ["B"], ["C"], ["D"]], idempotency_key=f"h-{n}"),
        )
        page.reload()
    page.get_by_role("heading", name="No tasks left for you").wait_for()


def view_console(browser: Browser, corpus: Corpus, watch: Watch) -> None:
    page = watch.attach(browser.page())
    log_in(page, "admin")
    page.goto("/console")
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    names = corpus.names
    expected = {
        "campaigns": ids(names["campaigns"]),
        "pools": ids(names["pools"]),
        "raters": ids(names["raters"]) | ids(names["reasons"]),
        "audit": ids(names["reasons"]),
    }
    for section, shown in expected.items():
        open_section(page, section)
        watch.check(page, shown, f"console {SECTIONS[section]}")
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Quality", exact=True
    ).click()
    page.get_by_role("heading", name="Quality", level=1).wait_for()
    page.get_by_label("Campaign", exact=True).select_option(str(corpus.campaign.pk))
    page.get_by_test_id("quality-report").wait_for()
    watch.check(page, {int(MARKER.findall(corpus.rater.username)[0])}, "console Quality")


def view_training(browser: Browser, corpus: Corpus, watch: Watch) -> None:
    page = watch.attach(browser.page())
    log_in(page, "admin")
    page.goto("/training")
    page.get_by_role("heading", name="Runs", level=1).wait_for()
    page.goto(f"/training#runs/{corpus.run.pk}")
    page.get_by_test_id("run-detail").get_by_role(
        "heading", name=f"Run #{corpus.run.pk}"
    ).wait_for()
    watch.check(page, ids(corpus.payloads[:120]), "training run")
    page.goto("/training#versions")
    page.get_by_role("heading", name="Model versions", level=1).wait_for()
    watch.check(page, ids(corpus.names["training"]), "training versions")


def prove_the_watch_sees_raw_html(
    browser: Browser, payloads: list[Payload], **options: Any
) -> Watch:
    """The same watch on payloads inserted raw, past the app's rendering: it must see them,
    or its zeros above would mean nothing."""
    control = Watch()
    page = control.attach(browser.page(**options))
    page.goto("/login")
    page.locator("#main").wait_for()
    page.evaluate(
        "html => document.querySelector('#main').insertAdjacentHTML('beforeend', html)",
        "".join(p.text for p in payloads),
    )
    control.check(page, ids(payloads), "control")
    return control


def test_a_thousand_hostile_payloads_never_run(browser: Browser, corpus: Corpus) -> None:
    watch = Watch()
    view_annotate(browser, corpus, watch)
    view_console(browser, corpus, watch)
    view_training(browser, corpus, watch)

    print(
        f"\nhostile corpus: {len(corpus.payloads)} payloads, {len(watch.rendered)} rendered, "
        f"{watch.views} page views, {len(watch.executions)} executions, "
        f"{len(watch.csp_blocks)} CSP blocks, {len(watch.loads)} watched loads, "
        f"{len(watch.dangerous)} dangerous nodes"
    )
    assert len(corpus.payloads) >= 1000
    assert watch.rendered == ids(corpus.payloads)
    assert watch.executions == []
    assert watch.csp_blocks == []
    assert watch.loads == []
    assert Counter(watch.dangerous) == Counter()
    assert watch.console_errors == []

    # Controls: the first 30 raw-HTML payloads inserted as HTML, with the page's CSP (which
    # blocks them, and says so) and without it (they run, and __pwn records them).
    raw = [p for p in corpus.payloads if p.text.startswith(f"«{p.id}» <")][:30]
    with_csp = prove_the_watch_sees_raw_html(browser, raw)
    without_csp = prove_the_watch_sees_raw_html(browser, raw, bypass_csp=True)
    print(
        f"controls, {len(raw)} payloads inserted raw: with the CSP {len(with_csp.csp_blocks)} "
        f"blocked, {len(with_csp.dangerous)} dangerous nodes; without it "
        f"{len(set(without_csp.executions))} executed, {len(without_csp.loads)} watched loads"
    )
    assert with_csp.csp_blocks != []
    assert with_csp.dangerous != []
    assert without_csp.executions != []
