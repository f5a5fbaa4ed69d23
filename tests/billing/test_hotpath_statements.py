"""The hot path's statements stay short enough for psycopg's parsed-statement cache."""

import pytest
from psycopg import _queries

from billing.hotpath import sql


@pytest.mark.parametrize("name", ["HOLD", "RELEASE", "SETTLE_BATCH", "SETTLE_UNHELD"])
def test_statement_fits_psycopgs_cache(name):
    # Longer statements are re-parsed in Python on every execution: gateway CPU per batch.
    assert len(getattr(sql, name)) <= _queries.MAX_CACHED_STATEMENT_LENGTH
