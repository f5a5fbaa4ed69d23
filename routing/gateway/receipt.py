"""GET /v1/generation/receipt?id=: a request's signed receipt (compliance/receipts.py).

Same caller, scoping and timing as /v1/generation (routing/gateway/account.py): the usage record
is read, and the receipt signed, in one job of the gateway's database threads, with the keys
loaded at start-up; another org's id, or one whose usage is not written yet, is 404.
The answer is JSON (`data.receipt` is the compact JWS), or the bare JWS with
`Accept: application/jose`, ready for any JWT library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from routing.gateway import seams
from routing.gateway.account import generation_id, read_generation
from routing.gateway.http import send_json

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway

JOSE = b"application/jose"


def _signed(keys: tuple[seams.SigningKey, ...], org_id: int,
            request_id: str) -> seams.SignedReceipt | None:
    record = seams.get_usage_record(org_id, request_id)
    return None if record is None else seams.issue_receipt(record, keys)


async def receipt(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    keys, request_id = gw.receipt_keys, generation_id(ctx)
    signed = await read_generation(
        gw, lambda org_id, wanted: _signed(keys, org_id, wanted), caller.org_id, request_id)
    if JOSE in ctx.headers.get(b"accept", b""):
        await ctx.send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", JOSE), *ctx.response_headers()]})
        await ctx.send({"type": "http.response.body", "body": signed.token.encode()})
        return
    data = {"id": request_id, "receipt": signed.token, "kid": signed.kid, "alg": "EdDSA",
            "jwks_uri": signed.jwks_uri}
    await send_json(ctx.send, 200, orjson.dumps({"data": data}), ctx.response_headers())
