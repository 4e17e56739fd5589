"""The write services behind the admin API: each writes its row and its audit event in one
transaction, so a failure in either leaves neither."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.models import AuditEvent, Campaign, RaterPool
from annotation.services import audit, campaigns, pools, raters
from annotation.services.campaigns import create_campaign, ensure_campaign, update_campaign
from annotation.services.pools import create_pool, delete_pool, update_pool
from annotation.services.raters import create_rater
from common.errors import InvalidInput
from common.roles import Role
from tests.factories import make_campaign, make_user

pytestmark = pytest.mark.django_db


class AuditDown(Exception):
    pass


@pytest.fixture
def failing_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every audit write raises, wherever the services imported it."""

    def fail(**kwargs: Any) -> None:
        raise AuditDown

    for module in (audit, campaigns, pools, raters):
        monkeypatch.setattr(module, "record_audit_event", fail)


def actions() -> list[tuple[str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("action", "target_id"))


def test_create_campaign_writes_the_campaign_and_its_audit_event() -> None:
    # given
    admin = make_user(Role.ADMIN)

    # when
    campaign = create_campaign(
        actor=admin, settings={"name": "Tone", "responses_per_task": 3, "overlap": 2}
    )

    # then
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.responses_per_task, stored.overlap) == ("Tone", 3, 2)
    assert stored.created_by == admin
    assert actions() == [("campaign.create", str(campaign.pk))]


def test_a_failed_audit_write_leaves_no_campaign(failing_audit: None) -> None:
    # given
    admin = make_user(Role.ADMIN)

    # when
    with pytest.raises(AuditDown):
        create_campaign(actor=admin, settings={"name": "Tone", "responses_per_task": 3})

    # then
    assert not Campaign.objects.filter(name="Tone").exists()


def test_a_campaign_the_model_refuses_is_not_written() -> None:
    # when: pairwise with four responses breaks the model's constraint
    with pytest.raises(InvalidInput) as refused:
        create_campaign(
            actor=None,
            settings={"name": "Bad", "responses_per_task": 4, "judgment_mode": "pairwise"},
        )

    # then: the API's error (a 400 with the model's reasons), not a Django exception (a 500)
    assert refused.value.code == "invalid"
    assert isinstance(refused.value.errors, dict)
    assert refused.value.errors

    assert not Campaign.objects.filter(name="Bad").exists()
    assert actions() == []


def test_a_failed_audit_write_leaves_the_campaign_unchanged(failing_audit: None) -> None:
    # given
    campaign = make_campaign(name="Before", overlap=3)

    # when
    with pytest.raises(AuditDown):
        update_campaign(
            actor=make_user(Role.ADMIN), campaign=campaign, changes={"name": "After", "overlap": 5}
        )

    # then
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.overlap) == ("Before", 3)


def test_update_campaign_audits_the_changed_fields() -> None:
    # given
    campaign = make_campaign(overlap=3)

    # when
    update_campaign(
        actor=make_user(Role.ADMIN), campaign=campaign, changes={"overlap": 5, "guidelines": "G"}
    )

    # then
    assert Campaign.objects.get(pk=campaign.pk).overlap == 5
    event = AuditEvent.objects.get()
    assert event.action == "campaign.update"
    assert event.details == {
        "fields": ["guidelines", "overlap"],
        "overlap": {"old": 3, "new": 5},
        "tasks_changed": 0,
    }


def test_ensure_campaign_creates_once_and_audits_once() -> None:
    # when
    first, created = ensure_campaign(actor=None, name="Demo", responses_per_task=2)
    again, created_again = ensure_campaign(actor=None, name="Demo", responses_per_task=4)

    # then: the second call finds the first campaign, settings untouched
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Campaign.objects.get(pk=first.pk).responses_per_task == 2
    assert actions() == [("campaign.create", str(first.pk))]


def test_a_failed_audit_write_leaves_no_pool(failing_audit: None) -> None:
    # when
    with pytest.raises(AuditDown):
        create_pool(actor=make_user(Role.ADMIN), name="Night shift")

    # then
    assert not RaterPool.objects.filter(name="Night shift").exists()


def test_a_failed_audit_write_leaves_the_pool_unchanged(failing_audit: None) -> None:
    # given
    pool = RaterPool.objects.create(name="Night shift", description="late")

    # when
    with pytest.raises(AuditDown):
        update_pool(actor=make_user(Role.ADMIN), pool=pool, changes={"description": "early"})

    # then
    assert RaterPool.objects.get(pk=pool.pk).description == "late"


def test_a_failed_audit_write_keeps_the_pool(failing_audit: None) -> None:
    # given
    pool = RaterPool.objects.create(name="Night shift")

    # when
    with pytest.raises(AuditDown):
        delete_pool(actor=make_user(Role.ADMIN), pool=pool)

    # then
    assert RaterPool.objects.filter(pk=pool.pk).exists()


def test_pool_create_and_delete_each_write_their_audit_event() -> None:
    # given
    admin = make_user(Role.ADMIN)

    # when
    pool = create_pool(actor=admin, name="Night shift", description="late")
    pool_id = pool.pk
    delete_pool(actor=admin, pool=pool)

    # then
    assert not RaterPool.objects.filter(pk=pool_id).exists()
    assert actions() == [("pool.create", str(pool_id)), ("pool.delete", str(pool_id))]
    assert AuditEvent.objects.get(action="pool.delete").details == {"name": "Night shift"}


def test_a_failed_audit_write_leaves_no_rater(failing_audit: None, django_user_model: Any) -> None:
    # when
    with pytest.raises(AuditDown):
        create_rater(
            actor=make_user(Role.ADMIN),
            username="newbie",
            password="pw-12345678",
            role=Role.ANNOTATOR,
        )

    # then
    assert not django_user_model.objects.filter(username="newbie").exists()
