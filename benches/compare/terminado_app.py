"""A minimal terminado server for ptyhub's end-to-end comparison (benches/e2e).

    terminado_app.py named|unique <argv as a JSON list>

Serves one terminado manager on 127.0.0.1, port chosen by the kernel, and prints
`terminado ready: <port>` once it listens. Both managers answer on `/ws/<name>`:

- `named`: terminado's NamedTermManager. The first socket naming a terminal starts the
  command; every later socket naming it shares the same process (as ptyhub and tmux do).
- `unique`: terminado's UniqueTermManager. Every socket starts its own process and ends it
  when it closes, which is how ttyd and gotty work (one process per browser tab).

The wire protocol is terminado's own: JSON arrays such as ["stdout", text], ["stdin", text],
["set_size", rows, cols]. The benchmark drives it with a Rust WebSocket client.
"""
import asyncio
import json
import socket
import sys

import tornado.httpserver
import tornado.web
from terminado import NamedTermManager, TermSocket, UniqueTermManager


def main():
    kind, argv = sys.argv[1], json.loads(sys.argv[2])
    if kind == "named":
        manager = NamedTermManager(shell_command=argv, max_terminals=100_000)
    elif kind == "unique":
        manager = UniqueTermManager(shell_command=argv, max_terminals=100_000)
    else:
        sys.exit(f"unknown manager {kind!r}: named or unique")
    app = tornado.web.Application(
        [(r"/ws/(\w+)", TermSocket, {"term_manager": manager})],
        websocket_max_message_size=64 * 1024 * 1024,
    )

    async def serve():
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        listener.setblocking(False)
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([listener])
        print(f"terminado ready: {listener.getsockname()[1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
