"""Autobahn|Python peer for payload validation: registers garden.sow, calls it with valid and
invalid payloads, publishes valid and invalid sightings, and prints one JSON line of what it saw.

  payload_validation_peer.py <port> <serializer>
"""

import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CallResult, PublishOptions

port, serializer = sys.argv[1], sys.argv[2]
SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}


async def error_of(coro):
    try:
        await coro
    except ApplicationError as e:
        return {"error": e.error, "args": list(e.args)}
    return None


class Peer(ApplicationSession):
    async def onJoin(self, details):
        out = {}

        def sow(bed, seeds, organic, note=None, depth_mm=None):
            if note == "answer badly":
                return CallResult({"species": "tomato"}, "heavy")
            return CallResult({"species": "tomato", "height_cm": 80.5}, 1200)

        await self.register(sow, "garden.sow")
        res = await self.call("garden.sow", 3, 120, True, note="tomatoes", depth_mm=12)
        out["valid"] = list(res.results)
        out["invalid_call"] = await error_of(self.call("garden.sow", 3, 120, "yes"))
        out["invalid_result"] = await error_of(self.call("garden.sow", 3, 120, True, note="answer badly"))

        seen = []
        got = asyncio.Event()

        def on_sighting(*args, **kwargs):
            seen.append({"args": list(args), "kwargs": kwargs})
            got.set()

        await self.subscribe(on_sighting, "garden.on_sighting")
        out["invalid_event"] = await error_of(self.publish("garden.on_sighting", "robin", -1, options=PublishOptions(acknowledge=True, exclude_me=False)))
        self.publish("garden.on_sighting", "wren", 2, colour="brown", options=PublishOptions(exclude_me=False))
        await self.publish("garden.on_sighting", "blackbird", 2, seen_at=1764770000, options=PublishOptions(acknowledge=True, exclude_me=False))
        await asyncio.wait_for(got.wait(), 10)
        await asyncio.sleep(0.1)
        out["events"] = seen
        print(json.dumps(out), flush=True)
        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


# As Crossbar's documentation starts a component.
ApplicationRunner(url=f"ws://127.0.0.1:{port}/ws", realm="realm1", serializers=[SERIALIZERS[serializer]()]).run(Peer)
