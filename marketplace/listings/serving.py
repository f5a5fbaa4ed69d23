"""Which sponsored listings a page shows: the auction's winners for one placement and viewer.

(Interface fixed for the pages that call it; the auction lands in `auction.py`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

# At most this many sponsored slots on one page, whatever the placement.
MAX_SLOTS_PER_PAGE = 2


@dataclass(frozen=True, slots=True)
class SlotContext:
    placement: str  # models.Placement value
    page: str  # request.get_full_path() of the page the slots go on
    tasks: frozenset[str] = field(default_factory=frozenset)  # what the page is about
    capabilities: frozenset[str] = field(default_factory=frozenset)
    # The model whose page this is (alternatives box): never shown, and its rivals compete.
    competing_with: str | None = None


@dataclass(frozen=True, slots=True)
class SponsoredSlot:
    campaign_id: int
    slot: int  # 1 or 2, top first
    advertiser: str  # the vendor org's name, shown in the "Sponsored" label
    model_slug: str
    model_name: str
    model_url: str
    blurb: str  # the listing's approved description, shortened
    token: str  # tickets.sign_ticket(...), sent back by the beacons


def sponsored_slots(request, context: SlotContext, *, limit: int = MAX_SLOTS_PER_PAGE
                    ) -> list[SponsoredSlot]:
    """The winners, at most min(limit, MAX_SLOTS_PER_PAGE), best ad rank first."""
    raise NotImplementedError
