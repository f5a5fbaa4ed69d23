"""What the viewer of a public catalog page pays: the composition the catalog may not do itself.

The catalog imports no billing, so the pages live here and hand the catalog a price function.
It is the gateway's rule for `/v1/models` (`routing/gateway/info.py`): billing's margin table,
looked up for the viewer's org (None for a visitor: the platform's rules and default), applied
by `billing.pricing.caller_price_nanos`. A test holds the two to the same nanos.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.pricing import MarginTable, caller_price_nanos
from billing.selectors.spend import get_margin_table


@dataclass(frozen=True)
class ViewerPrices:
    org_id: int | None
    org_name: str
    margins: MarginTable

    def bps(self, model_slug: str, provider_slug: str) -> int:
        return self.margins.bps(self.org_id, model_slug, provider_slug)

    def price_of(self, nanos: int, model_slug: str, provider_slug: str) -> int:
        return caller_price_nanos(nanos, self.bps(model_slug, provider_slug))

    @property
    def fee_bps(self) -> int:
        """The viewer's headline fee: the org's contract rate, else the platform default."""
        return self.margins.bps(self.org_id, "", "")


def viewer_prices(membership) -> ViewerPrices:
    """Prices for a signed-in member's current org, or a visitor's (`membership` None)."""
    return ViewerPrices(
        org_id=membership.org_id if membership else None,
        org_name=membership.org.name if membership else "",
        margins=get_margin_table(),
    )


def fee_percent(bps: int) -> str:
    """550 -> "5.5%", 500 -> "5%", 1234 -> "12.34%" (basis points are exact hundredths)."""
    whole, hundredths = divmod(bps, 100)
    return (f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") if hundredths else
            str(whole)) + "%"
