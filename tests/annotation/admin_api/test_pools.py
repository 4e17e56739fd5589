"""Rater pools through the admin API: create, members, campaigns, list, update, delete."""

from __future__ import annotations

from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    audit_log,
)
from tests.factories import make_campaign, make_pool, make_task, make_user


def test_create_pool(admin: Client) -> None:
    # when
    response = admin.post(f"{API}/pools/", {"name": "Experts", "description": "Senior raters"})

    # then
    assert response.status_code == 201
    pool_id = response.json()["id"]
    assert {k: v for k, v in response.json().items() if k != "created_at"} == {
        "id": pool_id,
        "name": "Experts",
        "description": "Senior raters",
        "member_ids": [],
        "campaign_ids": [],
    }
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "pool.create",
            "target_type": "RaterPool",
            "target_id": str(pool_id),
            "details": {},
        }
    ]
    duplicate = admin.post(f"{API}/pools/", {"name": "Experts"})
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"] == {"name": ["rater pool with this name already exists."]}


def test_add_and_remove_pool_members(admin: Client) -> None:
    # given
    pool = make_pool(members=[], campaigns=[])
    first, second = make_user(), make_user()

    # when
    added = admin.post(f"{API}/pools/{pool.pk}/members/", {"add": [first.pk, second.pk]})
    removed = admin.post(f"{API}/pools/{pool.pk}/members/", {"remove": [first.pk]})

    # then
    assert added.status_code == 200
    assert sorted(added.json()["member_ids"]) == sorted([first.pk, second.pk])
    assert removed.status_code == 200
    assert removed.json()["member_ids"] == [second.pk]
    assert list(pool.members.all()) == [second]
    assert [(e["action"], e["details"]) for e in audit_log(admin)] == [
        ("pool.members", {"added": [], "removed": [first.pk]}),
        ("pool.members", {"added": sorted([first.pk, second.pk]), "removed": []}),
    ]


def test_pool_members_with_an_unknown_user_changes_nothing(admin: Client) -> None:
    # given
    pool = make_pool(members=[], campaigns=[])
    known = make_user()

    # when
    response = admin.post(f"{API}/pools/{pool.pk}/members/", {"add": [known.pk, 999_999]})

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "user_not_found", "detail": "No such users: 999999."}
    assert list(pool.members.all()) == []
    assert audit_log(admin) == []


def test_pool_campaigns_decide_what_members_may_rate(admin: Client, client_for: ClientFor) -> None:
    # given
    rater = client_for()
    campaign = make_campaign()
    make_task(campaign)
    pool = make_pool(members=[rater.user], campaigns=[])
    assert rater.post(f"{API}/assignments/next/").status_code == 204

    # when
    added = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"add": [campaign.pk]})

    # then
    assert added.status_code == 200
    assert added.json()["campaign_ids"] == [campaign.pk]
    assert rater.post(f"{API}/assignments/next/").status_code == 200

    # and when withdrawn, the rater's live lease there is no longer offered
    removed = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"remove": [campaign.pk]})
    assert removed.json()["campaign_ids"] == []
    assert rater.post(f"{API}/assignments/next/").status_code == 204
    assert [(e["action"], e["details"]) for e in audit_log(admin)] == [
        ("pool.campaigns", {"added": [], "removed": [campaign.pk]}),
        ("pool.campaigns", {"added": [campaign.pk], "removed": []}),
    ]


def test_pool_campaigns_with_an_unknown_campaign(admin: Client) -> None:
    pool = make_pool(members=[], campaigns=[])
    response = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"add": [999_999]})
    assert response.status_code == 404
    assert response.json() == {"code": "campaign_not_found", "detail": "No such campaign."}


def test_pool_change_on_unknown_pool(admin: Client) -> None:
    response = admin.post(f"{API}/pools/999999/members/", {"add": []})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_update_and_delete_pools(admin: Client) -> None:
    # given
    member = make_user()
    campaign = make_campaign()
    pool = make_pool(members=[member], campaigns=[campaign], name="B pool")
    make_pool(members=[], campaigns=[], name="A pool")

    # when
    listing = admin.get(f"{API}/pools/")
    renamed = admin.patch(f"{API}/pools/{pool.pk}/", {"name": "Renamed"})
    deleted = admin.delete(f"{API}/pools/{pool.pk}/")

    # then
    assert [(p["name"], p["member_ids"], p["campaign_ids"]) for p in listing.json()["results"]] == [
        ("A pool", [], []),
        ("B pool", [member.pk], [campaign.pk]),
    ]
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    assert deleted.status_code == 204
    assert admin.get(f"{API}/pools/{pool.pk}/").status_code == 404
    assert [(e["action"], e["target_id"], e["details"]) for e in audit_log(admin)] == [
        ("pool.delete", str(pool.pk), {"name": "Renamed"}),
        ("pool.update", str(pool.pk), {"fields": ["name"]}),
    ]
