"""Browser: the overview draws its spend chart with the vendored Chart.js (under the CSP, no
inline script) and a quick-start copy button puts the snippet on the clipboard."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.tenancy.models import Role
from tests.dashboard.usage_rows import usage
from tests.e2e.test_billing_flow import signed_in
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.browser


def test_the_overview_draws_the_chart_and_copies_a_snippet(start_gateway_server, browser_page,
                                                           tmp_path):
    m = member(Role.OWNER)
    key, _ = api_key(m.org, name="backend")
    now = timezone.now()
    for days_ago, model, charge in ((0, "openai/gpt-4o-mini", 2_000_000),
                                    (3, "anthropic/claude-sonnet-4", 40_000_000),
                                    (3, "openai/gpt-4o-mini", 1_000_000)):
        usage(m.org, key=key, at=now - dt.timedelta(days=days_ago), model=model, charge=charge)
    server = start_gateway_server()
    page = browser_page
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    signed_in(page, server.url, m.user)

    page.goto(f"{server.url}/dashboard/")

    canvas = page.locator("#spend-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('spend-chart'))")
    chart = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('spend-chart'));
        return {labels: chart.data.labels.length,
                series: chart.data.datasets.map((d) => d.label),
                total: chart.data.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b), 0)};
    }""")
    assert chart["labels"] == 30
    assert chart["series"] == ["anthropic/claude-sonnet-4", "openai/gpt-4o-mini"]
    assert abs(chart["total"] - 0.043) < 1e-9
    # Something was drawn: the canvas has non-transparent pixels.
    painted = page.evaluate("""() => {
        const c = document.getElementById('spend-chart');
        const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
        return n;
    }""")
    assert painted > 1000
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.get_by_role("button", name="Copy the Python snippet").click()
    expect(page.get_by_role("button", name="Copy the Python snippet")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("import os\nfrom openai import OpenAI")
    assert f'base_url="{server.url}/v1"' in copied
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
