"""Known crawlers, by user agent: their beacons are counted nothing and billed nothing.

No crawler-detection library is installed here (`crawlerdetect` is not among the
dependencies), so this is a short list of the substrings that mark crawlers, headless
browsers and HTTP tools, after the community-kept lists (crawler-user-agents,
CrawlerDetect). It is deliberately broad: a false positive only means an impression we do
not bill. An empty user agent is no browser either.
"""

from __future__ import annotations

import re

_PATTERNS = (
    # The generic words almost every well-behaved crawler puts in its name.
    r"bot\b", r"bot[/_;-]", r"crawl", r"spider", r"slurp", r"scrap", r"fetch(er)?\b",
    r"archiver", r"indexer", r"monitor", r"preview", r"validator", r"checker",
    # Search engines, social previews and SEO tools that say so only by name.
    r"googlebot", r"google-inspectiontool", r"googleother", r"adsbot", r"mediapartners",
    r"bingpreview", r"yandex", r"baiduspider", r"duckduckgo", r"sogou", r"exabot",
    r"facebookexternalhit", r"facebookcatalog", r"twitterbot", r"linkedinbot", r"slackbot",
    r"discordbot", r"telegrambot", r"whatsapp", r"skypeuripreview", r"embedly", r"pinterest",
    r"applebot", r"petalbot", r"semrush", r"ahrefs", r"mj12bot", r"dotbot", r"bytespider",
    r"gptbot", r"chatgpt-user", r"oai-searchbot", r"claudebot", r"claude-web", r"anthropic-ai",
    r"perplexitybot", r"ccbot", r"amazonbot", r"diffbot", r"ia_archiver", r"uptimerobot",
    r"pingdom", r"statuscake", r"site24x7", r"newrelicpinger", r"datadog",
    # Headless and scripted clients.
    r"headlesschrome", r"phantomjs", r"puppeteer", r"playwright", r"selenium", r"webdriver",
    r"lighthouse", r"chrome-lighthouse", r"pagespeed", r"gtmetrix",
    r"^curl/", r"^wget/", r"python-requests", r"python-urllib", r"python-httpx", r"aiohttp",
    r"^go-http-client", r"^java/", r"okhttp", r"apache-httpclient", r"libwww-perl",
    r"^node-fetch", r"axios/", r"^ruby", r"httpie", r"postmanruntime", r"insomnia",
    r"^mozilla/\d\.\d$", r"^mozilla/\d\.\d \(compatible;?\)$",
)

_CRAWLER = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def is_crawler(user_agent: str | None) -> bool:
    """True for an empty user agent or one that names a known crawler or scripted client."""
    agent = (user_agent or "").strip()
    return not agent or _CRAWLER.search(agent) is not None
