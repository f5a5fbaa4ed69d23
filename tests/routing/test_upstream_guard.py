"""Connect-time checks: every resolved address is checked, literal addresses too, no redirects."""

import pytest
from aiohttp import web

from core.errors import UpstreamError
from routing.engine.guard import UrlGuard
from routing.types import UpstreamFailure
from tests.routing.builders import endpoint, provider
from tests.routing.engine_helpers import LOOPBACK, MODEL, call_kwargs, drain, request, run


class TableResolver:
    """Resolves names from a table, as a hostile or rebinding DNS server could answer."""

    def __init__(self, table):
        self.table = table
        self.asked = []

    async def __call__(self, host, port):
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"{host} does not resolve")
        return list(self.table[host])


def at(base_url, slug):
    return endpoint(MODEL, provider(slug, base_url=base_url), upstream_model_id="sandbox-model")


def evil(sandbox, slug):
    """`slug` on the sandbox, reached through the name evil.example."""
    return at(f"http://evil.example:{sandbox.port}/{slug}/v1", slug)


def refused_call(target, *, stream=False, **options):
    async def test(upstream):
        with pytest.raises(UpstreamError) as caught:
            if stream:
                await drain(await upstream.stream(request(stream=True), [target],
                                                  **call_kwargs()))
            else:
                await upstream.complete(request(), [target], **call_kwargs())
        return caught.value
    return run(test, **options)


@pytest.mark.parametrize("stream", [False, True])
def test_a_name_resolving_to_loopback_is_refused_before_any_request(sandbox, stream):
    resolver = TableResolver({"evil.example": ["127.0.0.1"]})
    error = refused_call(evil(sandbox, "guard-a"), stream=stream, allowed_networks=(),
                         resolver=resolver)

    assert error.status == 502
    assert "Refused to connect: evil.example resolves to a blocked address: 127.0.0.1 is in " \
           "the blocked network 127.0.0.0/8." in error.message
    assert [(a["provider"], a["status"]) for a in error.metadata["attempts"]] == [
        ("guard-a", "connect_error")]
    assert resolver.asked == ["evil.example"]
    assert sandbox.control.requests("guard-a") == []


def test_the_same_name_is_called_when_its_network_is_allowed(sandbox):
    resolver = TableResolver({"evil.example": ["127.0.0.1"]})

    async def test(upstream):
        return await upstream.complete(request(), [evil(sandbox, "guard-b")], **call_kwargs())
    result = run(test, allowed_networks=LOOPBACK, resolver=resolver)

    assert result.body["choices"][0]["message"]["content"].startswith("Sandbox reply to:")
    assert len(sandbox.control.requests("guard-b")) == 1


def test_one_blocked_address_among_public_ones_refuses_the_name(sandbox):
    resolver = TableResolver({"evil.example": ["93.184.216.34", "169.254.169.254"]})
    error = refused_call(evil(sandbox, "guard-c"), allowed_networks=LOOPBACK, resolver=resolver)

    assert "169.254.169.254 is in the blocked network 169.254.0.0/16" in error.message


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "0x7f.1", "2130706433"])
def test_literal_loopback_addresses_are_refused_without_an_allowance(sandbox, host):
    resolver = TableResolver({})
    target = at(f"http://{host}:{sandbox.port}/guard-d/v1", "guard-d")
    error = refused_call(target, allowed_networks=(), resolver=resolver)

    assert error.status == 502
    assert "Refused to connect" in error.message and "127.0.0.0/8" in error.message
    assert resolver.asked == []
    assert sandbox.control.requests("guard-d") == []


def test_redirects_are_not_followed(sandbox):
    hits = []

    async def redirect(req):
        hits.append(req.path)
        raise web.HTTPFound(f"{sandbox.openai_base('guard-e')}/chat/completions")

    async def test(upstream):
        app = web.Application()
        app.router.add_post("/{tail:.*}", redirect)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            with pytest.raises(UpstreamError) as caught:
                await upstream.complete(request(), [at(f"http://127.0.0.1:{port}/v1", "hop")],
                                        **call_kwargs())
            return caught.value
        finally:
            await runner.cleanup()
    error = run(test)

    assert error.status == 502
    assert [(a["provider"], a["status"]) for a in error.metadata["attempts"]] == [("hop", 302)]
    assert hits == ["/v1/chat/completions"]
    assert sandbox.control.requests("guard-e") == []


def test_url_guard_judges_schemes_and_literal_addresses():
    guard = UrlGuard(LOOPBACK)
    guard.check("http://127.0.0.1:9/v1")
    guard.check("https://api.openai.com/v1")
    for url, reason in [("http://8.8.8.8/v1", "plain http to 8.8.8.8"),
                        ("https://169.254.169.254/", "169.254.0.0/16"),
                        ("file:///etc/passwd", "not an https URL"),
                        ("https://1.2.3.4.5/", "invalid provider URL")]:
        with pytest.raises(UpstreamFailure, match=reason) as caught:
            guard.check(url)
        assert (caught.value.status, caught.value.retryable) == ("connect_error", True)
