"""``python -m routing.sandbox --host 127.0.0.1 --port N``: run the sandbox providers.

With ``--port 0`` the OS picks the port; the bound port is printed on stdout as one JSON line,
``{"port": N}``, once the server accepts connections.
"""

import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web

from routing.sandbox.server import create_app


async def _run(host: str, port: int) -> None:
    # a stalled request must not hold shutdown for the default 60 s
    runner = web.AppRunner(create_app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound: int = runner.addresses[0][1]
    sys.stdout.write(json.dumps({"port": bound}) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m routing.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(_run(args.host, args.port))


if __name__ == "__main__":
    main()
