"""The admin client every admin API test logs in as."""

from __future__ import annotations

import pytest

from common.roles import Role
from tests.annotation.admin_api.helpers import Client, ClientFor


@pytest.fixture
def admin(client_for: ClientFor) -> Client:
    return client_for(Role.ADMIN, username="admin-amy")
