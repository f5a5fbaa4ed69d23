"""The signed ticket a served sponsored slot carries to the browser and back in its beacons.

Serving (`serving.py`) decides the slot, its advertiser and its second price, and signs them
here; the beacon view (`charging.py`) trusts only what it can verify, so a browser can neither
change the price nor bill a slot that was never served. A ticket lives `TICKET_MAX_AGE_S`: a tab
left open for a day bills nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing

TICKET_SALT = "switchyard.listings.slot"
TICKET_MAX_AGE_S = 6 * 3600


class BadTicket(Exception):
    """Forged, altered or expired."""


@dataclass(frozen=True, slots=True)
class SlotTicket:
    campaign_id: int
    placement: str
    page: str  # the page the slot was served on, as served (path and query)
    slot: int  # 1 or 2, top first
    impression_price_nanos: int  # charged per billable impression (0 for per-click campaigns)
    click_price_nanos: int  # charged per billable click (0 for per-thousand campaigns)
    viewer: str  # viewer_key() of who it was served to
    viewer_org_id: int | None


def sign_ticket(ticket: SlotTicket) -> str:
    return signing.dumps(asdict(ticket), salt=TICKET_SALT, compress=True)


def read_ticket(token: str, *, max_age: int = TICKET_MAX_AGE_S) -> SlotTicket:
    try:
        data = signing.loads(token, salt=TICKET_SALT, max_age=max_age)
        return SlotTicket(**data)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise BadTicket(str(exc)) from exc


def viewer_key(request) -> str:
    """Who is looking, as a keyed hash: the signed-in user, else the browser's session (created
    here if it has none). The same person on the same page keeps one key, and no id leaves."""
    if request.user.is_authenticated:
        raw = f"user:{request.user.pk}"
    else:
        if not request.session.session_key:
            request.session.save()
        raw = f"session:{request.session.session_key}"
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]
