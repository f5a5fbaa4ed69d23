"""The hot path's statements stay prepared: short enough for asyncpg's statement cache, and
every `%(name)s` placeholder becomes one numbered parameter."""

import inspect

import asyncpg
import pytest

from billing.hotpath import postgres, sql

STATEMENTS = {"HOLD": postgres._HOLD, "RELEASE": postgres._RELEASE,
              "SETTLE_BATCH": postgres._SETTLE_BATCH, "SETTLE_UNHELD": postgres._SETTLE_UNHELD}


@pytest.mark.parametrize("name", STATEMENTS)
def test_statement_fits_asyncpgs_cache(name):
    # Longer statements are parsed and planned by the server on every execution.
    limit = inspect.signature(asyncpg.connect).parameters["max_cacheable_statement_size"].default
    assert len(STATEMENTS[name][0]) <= limit


@pytest.mark.parametrize("name", STATEMENTS)
def test_placeholders_are_numbered_once_per_name(name):
    query, names = STATEMENTS[name]
    assert "%(" not in query
    assert len(set(names)) == len(names)
    assert [f"${n}" in query for n in range(1, len(names) + 1)] == [True] * len(names)
    assert f"${len(names) + 1}" not in query
    assert set(names) == set(_named(getattr(sql, name)))


def _named(statement):
    import re

    return re.findall(r"%\((\w+)\)s", statement)
