"""An Autobahn|Python (Debian python3-autobahn, asyncio) client that offers permessage-deflate,
as Autobahn's docs show (perMessageCompressionOffers / perMessageCompressionAccept), registers a
procedure returning a long string, calls it, and prints one JSON line: the extensions in use and
the length of the result.

    deflate_peer.py --port N [--no-offer]
"""

import argparse
import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateResponse, PerMessageDeflateResponseAccept


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--no-offer", action="store_true")
    args = p.parse_args()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    done = loop.create_future()

    class Peer(ApplicationSession):
        async def onJoin(self, details):
            await self.register(lambda: "x" * 100000, "py.deflate.big")
            result = await self.call("py.deflate.big")
            in_use = [e.__json__() for e in self._transport.websocket_extensions_in_use]
            if not done.done():
                done.set_result({"length": len(result), "extensions": in_use})
            self.leave()

        def onDisconnect(self):
            if not done.done():
                done.set_result({"error": "disconnected"})

    factory = WampWebSocketClientFactory(lambda: Peer(ComponentConfig(realm="realm1")),
                                         url=f"ws://127.0.0.1:{args.port}/ws", serializers=[JsonSerializer()])
    if not args.no_offer:
        def accept(response):
            if isinstance(response, PerMessageDeflateResponse):
                return PerMessageDeflateResponseAccept(response)
        factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer(accept_max_window_bits=True)],
                                   perMessageCompressionAccept=accept)
    loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", args.port))
    print(json.dumps(loop.run_until_complete(asyncio.wait_for(done, 20))), flush=True)


if __name__ == "__main__":
    sys.exit(main())
