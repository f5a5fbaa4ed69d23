"""The hot path's SQL: one statement per hold, per release and per settlement batch.

Each statement locks rows in one order, as the ORM services do: holds, then wallets, then key
limits, each by id, through `SELECT ... ORDER BY id FOR UPDATE` steps it reads before any
update. (PostgreSQL runs data-modifying steps that nothing reads in reverse of their written
order, so leaving the order to the updates locked key limits before wallets in settlements and
releases, against the hold's wallet then key limit: deadlocks under load on any limited key.)
Each statement reads and writes in one go (never read-then-write across round trips) and
carries the key limit's period rollover inline: a row whose period started before the current
one has spent nothing yet. Time is the server's `now()`: no timestamp crosses the wire on the
hot path (adapting datetimes costs more client CPU than the rest of a hold's parameters
together).
Semantics match billing/services/holds.py, which a test holds them to.
"""

# The current period's start of a key-limit row `l`: calendar periods in UTC (ISO weeks start
# on Monday), as billing.hotpath.rules.period_starts computes them for the ORM services.
_PERIOD_START = """CASE {l}.period WHEN 'day' THEN date_trunc('day', now(), 'UTC')
        WHEN 'week' THEN date_trunc('week', now(), 'UTC')
        WHEN 'month' THEN date_trunc('month', now(), 'UTC')
        ELSE {l}.period_start END"""

HOLD = f"""
WITH w AS (
    SELECT id, balance_nanos + credit_limit_nanos - held_nanos AS available
    FROM billing_wallet WHERE org_id = %(org_id)s FOR UPDATE
), k AS (
    SELECT l.id, l.limit_nanos, l.held_nanos, l.spent_nanos, l.period_start,
        {_PERIOD_START.format(l="l")} AS current_start
    FROM billing_keyspendlimit l, w WHERE l.api_key_id = %(key_id)s FOR UPDATE OF l
), kk AS (
    SELECT id, current_start,
        CASE WHEN period_start < current_start THEN 0 ELSE spent_nanos END AS spent
    FROM k
), g AS (
    SELECT w.id AS wallet_id, w.available AS wallet_available, kk.id AS limit_id,
        kk.spent, kk.current_start, k.limit_nanos - k.held_nanos - kk.spent AS key_available,
        LEAST(%(want)s::bigint, w.available,
              COALESCE(k.limit_nanos - k.held_nanos - kk.spent, %(want)s::bigint)) AS granted
    FROM w LEFT JOIN k ON true LEFT JOIN kk ON kk.id = k.id
), ok AS (
    SELECT * FROM g WHERE granted >= %(min)s::bigint AND granted >= 0
), uw AS (
    UPDATE billing_wallet SET held_nanos = billing_wallet.held_nanos + ok.granted,
        updated_at = now()
    FROM ok WHERE billing_wallet.id = ok.wallet_id RETURNING 1
), uk AS (
    UPDATE billing_keyspendlimit SET held_nanos = billing_keyspendlimit.held_nanos + ok.granted,
        spent_nanos = ok.spent, period_start = ok.current_start, updated_at = now()
    FROM ok WHERE billing_keyspendlimit.id = ok.limit_id RETURNING 1
), ins AS (
    INSERT INTO billing_hold (request_id, org_id, api_key_id, amount_nanos, endpoint_id,
        price_id, model_slug, prompt_upper_bytes, output_allowance_tokens, is_byok,
        key_held_nanos, provider_slug, input_nanos_per_m, status, created_at, deadline_at)
    SELECT %(request_id)s, %(org_id)s, %(key_id)s, ok.granted, %(endpoint_id)s, %(price_id)s,
        %(model_slug)s, %(prompt_upper_bytes)s, %(output_allowance_tokens)s, %(is_byok)s,
        CASE WHEN ok.limit_id IS NULL THEN 0 ELSE ok.granted END, %(provider_slug)s,
        %(input_nanos_per_m)s, 'open', now(), now() + %(deadline_ms)s * interval '1 millisecond'
    FROM ok RETURNING 1
)
SELECT granted, wallet_available, key_available FROM g
"""  # noqa: S608 - only the constant fragments above are interpolated, never input

# Close an open hold (`h`), charge nothing, release its reservations.
RELEASE = f"""
WITH h AS (
    UPDATE billing_hold SET status = 'released', closed_at = now()
    WHERE request_id = %(request_id)s AND status = 'open'
    RETURNING org_id, api_key_id, amount_nanos, key_held_nanos
), lw AS (
    SELECT id FROM billing_wallet WHERE org_id IN (SELECT org_id FROM h) ORDER BY id FOR UPDATE
), lk AS (
    SELECT id FROM billing_keyspendlimit
    WHERE api_key_id IN (SELECT api_key_id FROM h) AND (SELECT count(*) FROM lw) >= 0
    ORDER BY id FOR UPDATE
), uw AS (
    UPDATE billing_wallet SET held_nanos = billing_wallet.held_nanos - h.amount_nanos,
        updated_at = now()
    FROM h WHERE billing_wallet.org_id = h.org_id RETURNING 1
), uk AS (
    UPDATE billing_keyspendlimit l SET
        spent_nanos = CASE WHEN l.period_start < {_PERIOD_START.format(l="l")} THEN 0
            ELSE l.spent_nanos END,
        period_start = {_PERIOD_START.format(l="l")},
        held_nanos = GREATEST(l.held_nanos - h.key_held_nanos, 0), updated_at = now()
    FROM h WHERE l.api_key_id = h.api_key_id RETURNING 1
)
SELECT count(*) FROM h WHERE (SELECT count(*) FROM lk) >= 0
"""  # noqa: S608 - only the constant fragments above are interpolated, never input

# The usage record's columns that come from the settlement, in the arrays' order.
USAGE_COLUMNS = (
    ("request_id", "text"),
    ("created_ms", "bigint"),  # epoch ms, 0 for now(); see SETTLE_BATCH
    ("requested_model", "text"),
    ("served_model", "text"),
    ("endpoint_id", "bigint"),
    ("provider_slug", "text"),
    ("price_id", "bigint"),
    ("attempts", "text"),
    ("prompt_tokens", "integer"),
    ("completion_tokens", "integer"),
    ("cache_read_tokens", "integer"),
    ("cache_write_tokens", "integer"),
    ("reasoning_tokens", "integer"),
    ("upstream_cost_nanos", "bigint"),
    ("margin_nanos", "bigint"),
    ("byok_fee_nanos", "bigint"),
    ("charge_nanos", "bigint"),
    ("write_off_nanos", "bigint"),
    ("latency_ms", "integer"),
    ("ttft_ms", "integer"),
    ("finish_reason", "text"),
    ("streamed", "boolean"),
    ("cancelled", "boolean"),
    ("is_byok", "boolean"),
    ("estimated", "boolean"),
    ("app_referer", "text"),
    ("app_title", "text"),
    ("policy_version", "integer"),
    ("region", "text"),
    ("zdr", "boolean"),
    ("request_sha256", "text"),
)

# Parameters are named by position (`%(c0)s`, ...): the statement stays short, see _compact.
_UNNEST_ARGS = ", ".join(f"%(c{i})s::{kind}[]" for i, (_, kind) in enumerate(USAGE_COLUMNS))
_UNNEST_NAMES = ", ".join(name for name, _ in USAGE_COLUMNS)
# Columns copied as they are; org, key, charge, write-off and attempts are computed below.
_COPIED = [
    name for name, _ in USAGE_COLUMNS
    if name not in ("request_id", "charge_nanos", "write_off_nanos", "attempts", "created_ms")
]

# Settle a batch: close the open holds among them, cap each charge at its hold (overshoot to
# the write-off), debit each wallet and key limit once with the batch's sums, insert usage.
SETTLE_BATCH = f"""
WITH s AS (
    SELECT * FROM unnest({_UNNEST_ARGS}) AS s({_UNNEST_NAMES})
), h AS (
    UPDATE billing_hold SET status = 'settled', closed_at = now()
    FROM s WHERE billing_hold.request_id = s.request_id AND billing_hold.status = 'open'
    RETURNING billing_hold.request_id, billing_hold.org_id, billing_hold.api_key_id,
        billing_hold.amount_nanos, billing_hold.key_held_nanos
), c AS (
    SELECT h.*, LEAST(s.charge_nanos, h.amount_nanos) AS charged,
        s.write_off_nanos + GREATEST(s.charge_nanos - h.amount_nanos, 0) AS written_off
    FROM h JOIN s ON s.request_id = h.request_id
), lw AS (
    SELECT id FROM billing_wallet WHERE org_id IN (SELECT org_id FROM c) ORDER BY id FOR UPDATE
), lk AS (
    SELECT id FROM billing_keyspendlimit
    WHERE api_key_id IN (SELECT api_key_id FROM c) AND (SELECT count(*) FROM lw) >= 0
    ORDER BY id FOR UPDATE
), uw AS (
    UPDATE billing_wallet SET balance_nanos = billing_wallet.balance_nanos - a.charged,
        held_nanos = billing_wallet.held_nanos - a.held, updated_at = now()
    FROM (SELECT org_id, sum(charged)::bigint AS charged, sum(amount_nanos)::bigint AS held
          FROM c GROUP BY org_id) a
    WHERE billing_wallet.org_id = a.org_id RETURNING 1
), uk AS (
    UPDATE billing_keyspendlimit l SET
        spent_nanos = CASE WHEN l.period_start < {_PERIOD_START.format(l="l")} THEN 0
            ELSE l.spent_nanos END + a.charged,
        period_start = {_PERIOD_START.format(l="l")},
        held_nanos = GREATEST(l.held_nanos - a.key_held, 0), updated_at = now()
    FROM (SELECT api_key_id, sum(charged)::bigint AS charged,
                 sum(key_held_nanos)::bigint AS key_held
          FROM c WHERE api_key_id IS NOT NULL GROUP BY api_key_id) a
    WHERE l.api_key_id = a.api_key_id RETURNING 1
), ins AS (
    INSERT INTO billing_usagerecord (request_id, org_id, api_key_id, charge_nanos,
        write_off_nanos, attempts, created_at, {", ".join(_COPIED)})
    SELECT s.request_id, c.org_id, c.api_key_id, c.charged, c.written_off, s.attempts::jsonb,
        CASE WHEN s.created_ms = 0 THEN now()
            ELSE timestamptz 'epoch' + s.created_ms * interval '1 millisecond' END,
        {", ".join(_COPIED)}
    FROM c JOIN s USING (request_id)
    ON CONFLICT (request_id) DO NOTHING RETURNING 1
)
SELECT count(*) FROM h WHERE (SELECT count(*) FROM lk) >= 0
"""  # noqa: S608 - only the constant fragments above are interpolated, never input

# Settle requests whose hold is gone without a trace: committed asynchronously
# (synchronous_commit = off) just before the database crashed, so the server lost it while the
# answer went out. No hold row in any state and no usage record means exactly that case (a hold
# is never deleted, and a released or swept one still has its row): charge the wallet and key
# limit directly (a deadlock with another statement is retried like SETTLE_BATCH's). Replaying
# it is harmless: the usage record's unique request id lets each request be charged once.
SETTLE_UNHELD = f"""
WITH s AS (
    SELECT * FROM unnest({_UNNEST_ARGS}, %(org_id)s::bigint[], %(key_id)s::bigint[])
        AS s({_UNNEST_NAMES}, org_id, key_id)
), lost AS (
    SELECT s.* FROM s
    WHERE NOT EXISTS (SELECT 1 FROM billing_hold h WHERE h.request_id = s.request_id)
      AND NOT EXISTS (SELECT 1 FROM billing_usagerecord u WHERE u.request_id = s.request_id)
), ins AS (
    INSERT INTO billing_usagerecord (request_id, org_id, api_key_id, charge_nanos,
        write_off_nanos, attempts, created_at, {", ".join(_COPIED)})
    SELECT lost.request_id, lost.org_id, lost.key_id, lost.charge_nanos, lost.write_off_nanos,
        lost.attempts::jsonb,
        CASE WHEN lost.created_ms = 0 THEN now()
            ELSE timestamptz 'epoch' + lost.created_ms * interval '1 millisecond' END,
        {", ".join("lost." + name for name in _COPIED)}
    FROM lost
    ON CONFLICT (request_id) DO NOTHING
    RETURNING org_id, api_key_id, charge_nanos
), uw AS (
    UPDATE billing_wallet SET balance_nanos = billing_wallet.balance_nanos - a.charged,
        updated_at = now()
    FROM (SELECT org_id, sum(charge_nanos)::bigint AS charged FROM ins GROUP BY org_id) a
    WHERE billing_wallet.org_id = a.org_id RETURNING 1
), uk AS (
    UPDATE billing_keyspendlimit l SET
        spent_nanos = CASE WHEN l.period_start < {_PERIOD_START.format(l="l")} THEN 0
            ELSE l.spent_nanos END + a.charged,
        period_start = {_PERIOD_START.format(l="l")}, updated_at = now()
    FROM (SELECT api_key_id, sum(charge_nanos)::bigint AS charged
          FROM ins WHERE api_key_id IS NOT NULL GROUP BY api_key_id) a
    WHERE l.api_key_id = a.api_key_id RETURNING 1
)
SELECT count(*) FROM ins
"""  # noqa: S608 - only the constant fragments above are interpolated, never input


def _compact(statement: str) -> str:
    """One line, single spaces (the statements hold no comments and no multi-space literals).

    asyncpg keeps a prepared statement per connection only for statements up to
    `max_cacheable_statement_size` (15 KB by default); a longer one is parsed and planned by
    the server on every execution. A test keeps every statement well under that limit.
    """
    return " ".join(statement.split())


HOLD, RELEASE = _compact(HOLD), _compact(RELEASE)
SETTLE_BATCH, SETTLE_UNHELD = _compact(SETTLE_BATCH), _compact(SETTLE_UNHELD)
