"""Autobahn|Python peer for the advanced PubSub tests. Modes:

  subscribe <port> <path> <topic> <match> <count>   subscribe (get_retained) and print the first
                                                    <count> events as JSON lines, then leave
  testament <port> <path> <topic>                   add a testament, print READY, then wait (the
                                                    test kills the process: no GOODBYE)
  flushed <port> <path> <topic>                     add a testament, flush it, print READY, wait
"""

import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig, SubscribeOptions

mode, port, path, topic = sys.argv[1:5]
extra = sys.argv[5:]


class Peer(ApplicationSession):
    async def onJoin(self, details):
        if mode == "subscribe":
            match, count = extra[0], int(extra[1])
            seen = []
            done = asyncio.Event()

            def on_event(*args, **kwargs):
                d = kwargs.pop("details")
                seen.append(1)
                print(json.dumps({"args": list(args), "topic": d.topic, "retained": bool(d.retained)}), flush=True)
                if len(seen) >= count:
                    done.set()

            await self.subscribe(on_event, topic, options=SubscribeOptions(match=match, get_retained=True, details_arg="details"))
            print("READY", flush=True)
            await asyncio.wait_for(done.wait(), 10)
            self.leave()
        else:
            await self.call("wamp.session.add_testament", topic, [f"{mode}-will"], {})
            if mode == "flushed":
                await self.call("wamp.session.flush_testaments")
            print("READY", flush=True)

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


async def main():
    loop = asyncio.get_running_loop()
    factory = WampWebSocketClientFactory(lambda: Peer(ComponentConfig(realm="realm1")),
                                         url=f"ws://127.0.0.1:{port}{path}", serializers=[JsonSerializer()])
    await loop.create_connection(factory, "127.0.0.1", int(port))
    await asyncio.Event().wait()


try:
    asyncio.run(main())
except RuntimeError:
    pass
