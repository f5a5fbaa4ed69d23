"""`GET /.well-known/jwks.json`: the receipts' public keys, for anyone to verify a receipt.

Public and cacheable: it holds only public keys. A rotation adds the new key in front and keeps
the old ones, so a cached set still verifies every older receipt; a verifier meeting a `kid` it
has not seen fetches the set again (PyJWT's PyJWKClient does), so the cache never hides a key.
"""

from django.http import JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from compliance.receipts import jwks

MAX_AGE_S = 3600


@require_safe
@cache_control(public=True, max_age=MAX_AGE_S)
def jwks_view(request):
    response = JsonResponse(jwks(), content_type="application/jwk-set+json")
    response["Access-Control-Allow-Origin"] = "*"  # verifiers may fetch it from a browser
    return response
