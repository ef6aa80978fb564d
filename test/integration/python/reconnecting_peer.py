"""An Autobahn|Python Component that retries forever, for the router restart test:

    reconnecting_peer.py <port> <topic>

It joins over WebSocket at ws://127.0.0.1:<port>/ws and subscribes to <topic> on every join. Prints
one JSON line per join ({"joined": via}), leave ({"left": via, "reason": ...}) and event
({"via": via, "args": [...]}). Runs until killed. (Not RawSocket: Autobahn|Python 22.7's asyncio
RawSocket client fails in onWelcome, 'WampRawSocketClientProtocol' has no 'transport_details'.)
"""

import asyncio
import json
import sys

import txaio
from autobahn.asyncio.component import Component

port, topic = int(sys.argv[1]), sys.argv[2]
RETRIES = {"max_retries": -1}  # otherwise Autobahn's default backoff


def say(**line):
    print(json.dumps(line), flush=True)


def component(via, transport):
    c = Component(transports=[{**transport, **RETRIES}], realm="realm1")

    @c.on_join
    async def joined(session, details):
        def on_event(*args):
            say(via=via, args=list(args))

        await session.subscribe(on_event, topic)
        say(joined=via)

    @c.on_leave
    def left(session, details):
        say(left=via, reason=details.reason)

    return c


# Not autobahn's run(): it uses asyncio.coroutine, which Python 3.12 no longer has.
async def main():
    txaio.start_logging(level="warn")
    loop = asyncio.get_running_loop()
    await component("websocket", {"type": "websocket", "url": f"ws://127.0.0.1:{port}/ws", "serializers": ["json"]}).start(loop)


asyncio.run(main())
