"""Debezium's signal table (signal.data.collection), for the tests that signal through it."""

import json

from conftest import unique


def make_signal_table(pg):
    """Debezium's layout, with its usual types."""
    name = unique("dbz_signal")
    pg.execute(f"CREATE TABLE {name} (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, "
               f"data varchar(2048))")
    return name


def signal(pg, table, type_, data=None):
    pg.execute(f"INSERT INTO {table} VALUES (gen_random_uuid()::text, %s, %s)", type_,
               None if data is None else json.dumps(data))
