"""The providers' HTTP/1.1 client against raw sockets that answer exactly what each test writes."""

import asyncio
import gzip

import pytest

from routing.engine.http1 import (
    ConnectError,
    Disconnected,
    HttpClient,
    HttpClientError,
    MalformedResponse,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Server:
    """A TCP server answering each request with the next of `answers` (bytes, or a callable
    `async (reader, writer) -> None` that writes what it likes), over TLS with `tls` (an
    SSLContext); it records requests and connections."""

    def __init__(self, *answers, tls=None):
        self.answers = list(answers)
        self.tls = tls
        self.requests = []
        self.connections = 0
        self.open = 0
        self.most_open = 0

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/chat/completions"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _serve(self, reader, writer):
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                answer = self.answers.pop(0)
                if callable(answer):
                    await answer(reader, writer)
                else:
                    writer.write(answer)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


def then_close(data):
    """An answer that writes `data`, then closes the connection."""
    async def answer(reader, writer):
        writer.write(data)
        await writer.drain()
        writer.close()
    return answer


def after(seconds, data=OK):
    """An answer that waits `seconds`, then writes `data`."""
    async def answer(reader, writer):
        await asyncio.sleep(seconds)
        writer.write(data)
        await writer.drain()
    return answer


def run(test, **options):
    async def main():
        client = HttpClient(**options)
        try:
            return await test(client)
        finally:
            await client.close()
    return asyncio.run(main())


async def post(client, server, body=b"{}", **headers):
    response = await client.request("POST", server.url, body, headers)
    return response.status, await response.read()


def test_sequential_calls_share_one_kept_alive_connection():
    async def test(client):
        async with Server(OK, OK, OK) as server:
            answers = [await post(client, server, authorization="Bearer k") for _ in range(3)]
            return server, answers, client.in_use
    server, answers, in_use = run(test, headers={"User-Agent": "t"})
    assert answers == [(200, b"{}")] * 3
    assert server.connections == 1 and in_use == 0
    head, body = server.requests[0]
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head and b"\r\nUser-Agent: t\r\n" in head
    assert b"\r\nauthorization: Bearer k\r\n" in head and body == b"{}"


def test_a_chunked_body_arrives_as_it_is_sent_and_whole():
    async def slow(reader, writer):
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"6\r\n world\r\n0\r\n\r\n")
        await writer.drain()

    async def test(client):
        async with Server(slow, OK) as server:
            response = await client.request("POST", server.url, b"{}")
            parts = []
            while part := await response.readany():
                parts.append(part)
            response.release()
            again = await post(client, server)
            return parts, again, server.connections
    parts, again, connections = run(test)
    assert parts == [b"hello", b" world"]
    assert again == (200, b"{}") and connections == 1


def test_a_body_ended_by_closing_is_whole_and_its_connection_is_not_reused():
    async def test(client):
        async with Server(then_close(b"HTTP/1.1 200 OK\r\n\r\nall of it"), OK) as server:
            first = await post(client, server)
            second = await post(client, server)
            return first, second, server.connections
    assert run(test) == ((200, b"all of it"), (200, b"{}"), 2)


def test_connection_close_is_honoured():
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def test(client):
        async with Server(closing, OK) as server:
            return [await post(client, server) for _ in range(2)], server.connections
    assert run(test) == ([(200, b"ok"), (200, b"{}")], 2)


def test_a_gzipped_body_is_decoded():
    packed = gzip.compress(b'{"a": 1}')
    answer = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
              % len(packed)) + packed

    async def test(client):
        async with Server(answer) as server:
            return await post(client, server)
    assert run(test) == (200, b'{"a": 1}')


def test_interim_responses_are_skipped():
    answer = b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + OK

    async def test(client):
        async with Server(answer, OK) as server:
            return await post(client, server), await post(client, server), server.connections
    assert run(test) == ((200, b"{}"), (200, b"{}"), 1)


def test_a_connection_closed_mid_body_is_a_disconnect():
    cut = then_close(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")

    async def test(client):
        async with Server(cut) as server:
            response = await client.request("POST", server.url, b"{}")
            with pytest.raises(Disconnected):
                await response.read()
            response.close()
            return client.in_use
    assert run(test) == 0


def test_garbage_is_a_malformed_response():
    async def test(client):
        async with Server(b"SMTP ready\r\n\r\n") as server:
            with pytest.raises(MalformedResponse):
                await client.request("POST", server.url, b"{}")
            return client.in_use
    assert run(test) == 0


def test_an_idle_connection_the_server_closed_is_not_reused():
    async def answer_then_close(reader, writer):
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # as a server's keep-alive timeout does

    async def test(client):
        async with Server(answer_then_close, OK) as server:
            first = await post(client, server)
            await asyncio.sleep(0.2)
            second = await post(client, server)
            return first, second, server.connections
    assert run(test) == ((200, b"{}"), (200, b"{}"), 2)


def test_calls_past_the_per_host_bound_wait_for_a_connection():
    async def test(client):
        async with Server(*[after(0.05)] * 4) as server:
            answers = await asyncio.gather(*(post(client, server) for _ in range(4)))
            return answers, server.most_open, client.in_use
    answers, most_open, in_use = run(test, limit_per_host=1)
    assert answers == [(200, b"{}")] * 4
    assert most_open == 1 and in_use == 0


def test_a_cancelled_wait_for_a_connection_passes_its_turn_on():
    async def test(client):
        async with Server(after(0.1), OK) as server:
            first = asyncio.create_task(post(client, server))
            await asyncio.sleep(0.02)
            waiting = asyncio.create_task(post(client, server))
            await asyncio.sleep(0.02)
            waiting.cancel()
            third = asyncio.create_task(post(client, server))
            return await first, await asyncio.wait_for(third, 2), client.in_use
    assert run(test, limit=1) == ((200, b"{}"), (200, b"{}"), 0)


@pytest.mark.parametrize("name, value", [("x-api-key", "k\r\nx-evil: 1"), ("x-api-key", "k\n"),
                                         ("bad\r\nname", "v"), ("a:b", "v")])
def test_header_injection_is_refused_before_anything_is_sent(name, value):
    async def test(client):
        async with Server(OK) as server:
            with pytest.raises(HttpClientError, match="invalid request header"):
                await client.request("POST", server.url, b"{}", {name: value})
            return server.connections
    assert run(test) == 0


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///x", "http://h:99999/x",
                                 "http://h/a b"])
def test_unusable_urls_are_refused(url):
    async def test(client):
        with pytest.raises(HttpClientError):
            await client.request("POST", url, b"{}")
    run(test)


def test_names_are_resolved_once_and_connected_to_by_address():
    asked = []

    async def resolve(host, port):
        asked.append((host, port))
        return ["127.0.0.1"]

    async def test(client):
        async with Server(OK, OK) as server:
            url = f"http://provider.test:{server.port}/v1/chat/completions"
            answers = [(await (await client.request("POST", url, b"{}")).read())
                       for _ in range(2)]
            return answers, server.requests[0][0], server.port
    answers, head, port = run(test, resolve=resolve)
    assert answers == [b"{}", b"{}"]
    assert asked == [("provider.test", port)]
    assert f"\r\nHost: provider.test:{port}\r\n".encode() in head


def test_a_refusing_resolver_is_a_connect_error():
    async def resolve(host, port):
        raise OSError(f"{host} is not allowed")

    async def test(client):
        with pytest.raises(ConnectError) as caught:
            await client.request("POST", "http://provider.test/v1", b"{}")
        return caught.value, client.in_use
    error, in_use = run(test, resolve=resolve)
    assert "provider.test is not allowed" in str(error) and in_use == 0


def test_cancelling_while_waiting_for_the_answer_closes_the_connection():
    async def never(reader, writer):
        await reader.read()  # until the client hangs up

    async def test(client):
        async with Server(never) as server:
            task = asyncio.create_task(post(client, server))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.05)
            return client.in_use, server.open
    assert run(test) == (0, 0)


def test_a_large_body_read_slowly_arrives_whole():
    size = 3 << 20
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size

    async def test(client):
        async with Server(answer, OK) as server:
            response = await client.request("POST", server.url, b"{}")
            total = 0
            while part := await response.readany():
                total += len(part)
                await asyncio.sleep(0.001)
            response.release()
            return total, await post(client, server), server.connections
    assert run(test) == (size, (200, b"{}"), 1)


def _self_signed(tmp_path, name):
    """A certificate for `name` and its key, as PEM files; the certificate is its own CA."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.mark.parametrize("name, verified", [("provider.test", True), ("other.test", False)])
def test_https_verifies_the_certificate_for_the_name_called(tmp_path, name, verified):
    import ssl

    cert_file, key_file = _self_signed(tmp_path, "provider.test")
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ssl.load_cert_chain(cert_file, key_file)
    client_ssl = ssl.create_default_context(cafile=str(cert_file))

    async def resolve(host, port):
        return ["127.0.0.1"]

    async def test(client):
        async with Server(OK, tls=server_ssl) as server:
            url = f"https://{name}:{server.port}/v1/chat/completions"
            if not verified:
                with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.request("POST", url, b"{}")
                return None
            response = await client.request("POST", url, b"{}")
            return response.status, await response.read()
    answer = run(test, resolve=resolve, ssl_context=client_ssl)
    assert answer == ((200, b"{}") if verified else None)
