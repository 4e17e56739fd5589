"""DRF's old authtoken table, with every key in plain text, is dropped by a migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_the_plaintext_token_table_of_an_old_deployment_is_dropped() -> None:
    # given: a database as an older release left it, with a key in plain text
    executor = MigrationExecutor(connection)
    executor.migrate([("annotation", "0004_audit_names_api_tokens")])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('a-never-ending-plaintext-key')")
    assert "authtoken_token" in connection.introspection.table_names()

    # when
    executor = MigrationExecutor(connection)
    executor.migrate([("annotation", "0005_drop_plaintext_tokens")])

    # then
    assert "authtoken_token" not in connection.introspection.table_names()
    # and the database is left at the latest migrations, as the other tests expect
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "response_flags" in {
        column.name
        for column in connection.introspection.get_table_description(
            connection.cursor(), "annotation_judgment"
        )
    }
