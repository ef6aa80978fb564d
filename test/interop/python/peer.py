"""Autobahn|Python (Debian python3-autobahn, asyncio) peers driving a Junction router.

Two sessions, A (callee/subscriber) and B (caller/publisher), run a fixed scenario and print one JSON
object with what they observed; the vitest interop test asserts on it. Usage:

    peer.py --transport ws|rawsocket --serializer json|msgpack|cbor|ubjson --port N [--path /ws]
"""

import argparse
import asyncio
import json
import sys

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer, UBJSONSerializer
from autobahn.wamp.types import CallOptions, ComponentConfig, PublishOptions, RegisterOptions, SubscribeOptions

# Client quirk (Autobahn|Python 22.7): the asyncio RawSocket client protocol lacks the
# `transport_details` property that the session reads on WELCOME, so it could never join.
if not hasattr(WampRawSocketClientProtocol, "transport_details"):
    WampRawSocketClientProtocol.transport_details = property(lambda self: self._transport_details)

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer, "ubjson": UBJSONSerializer}


async def open_session(args, loop):
    joined = loop.create_future()

    class Peer(ApplicationSession):
        async def onJoin(self, details):
            if not joined.done():
                joined.set_result(self)

        def onLeave(self, details):
            if not joined.done():
                joined.set_exception(RuntimeError(f"left before joining: {details.reason} {details.message}"))
            self.disconnect()

    def make_session():
        return Peer(ComponentConfig(realm=args.realm))

    serializer = SERIALIZERS[args.serializer]()
    if args.transport == "ws":
        factory = WampWebSocketClientFactory(
            make_session, url=f"ws://127.0.0.1:{args.port}{args.path}", serializers=[serializer]
        )
    else:
        factory = WampRawSocketClientFactory(make_session, serializer=serializer)
    await loop.create_connection(factory, "127.0.0.1", args.port)
    return await asyncio.wait_for(joined, 10)


async def scenario(args):
    loop = asyncio.get_running_loop()
    a = await open_session(args, loop)
    b = await open_session(args, loop)
    out = {"welcome_roles": sorted(a._router_roles.keys()) if hasattr(a, "_router_roles") else None}

    events = []
    got_events = asyncio.Event()

    def on_event(*ev_args, **kwargs):
        details = kwargs.pop("details", None)
        events.append({"args": list(ev_args), "kwargs": kwargs, "topic": getattr(details, "topic", None)})
        if len(events) >= 2:
            got_events.set()

    await a.register(lambda x, y: x + y, "py.add2")

    def fail():
        raise ApplicationError("com.example.error.bad_input", "nope", code=7)

    await a.register(fail, "py.fail")

    async def countdown(n, details=None):
        for i in range(n, 0, -1):
            if details is not None and details.progress:
                details.progress(i)
        return "liftoff"

    await a.register(countdown, "py.countdown", options=RegisterOptions(details_arg="details"))
    interrupted = asyncio.Event()

    async def slow():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            interrupted.set()
            raise
        return "too late"

    await a.register(slow, "py.slow")
    await a.register(lambda details=None: {"caller": details.caller, "procedure": details.procedure},
                     "py.pattern.", options=RegisterOptions(match="prefix", details_arg="details"))
    await a.subscribe(on_event, "py.topic", options=SubscribeOptions(details_arg="details"))
    await a.subscribe(on_event, "py.pfx.", options=SubscribeOptions(match="prefix", details_arg="details"))

    out["add2"] = await b.call("py.add2", 2, 3)
    try:
        await b.call("py.fail")
    except ApplicationError as e:
        out["fail"] = {"error": e.error, "args": list(e.args), "kwargs": e.kwargs}
    try:
        await b.call("py.nothing.here")
    except ApplicationError as e:
        out["missing"] = e.error

    # Router-enforced timeout, in milliseconds as the spec says.
    try:
        await b.call("py.slow", options=CallOptions(timeout=200))
    except ApplicationError as e:
        out["timeout"] = e.error
    await asyncio.wait_for(interrupted.wait(), 5)
    out["timeout_interrupted_callee"] = interrupted.is_set()
    interrupted.clear()

    # Cancel from the caller side: the router answers and interrupts the callee.
    pending = asyncio.ensure_future(b.call("py.slow"))
    await asyncio.sleep(0.1)
    pending.cancel()
    try:
        await pending
    except asyncio.CancelledError:
        out["cancelled"] = True
    await asyncio.wait_for(interrupted.wait(), 5)
    out["cancel_interrupted_callee"] = interrupted.is_set()

    # Pattern-based registration; the caller is not disclosed unless asked (Autobahn|Python 22.7
    # has no disclose_me option; disclosure is tested with Autobahn|JS).
    out["pattern"] = await b.call("py.pattern.lamp.on")
    out["b_session"] = b._session_id

    progress = []
    out["countdown"] = await b.call("py.countdown", 3, options=CallOptions(on_progress=lambda i: progress.append(i)))
    out["progress"] = progress

    # A procedure of the test's own (non-Python) session: checks payload fidelity both ways.
    echo = await b.call("test.echo", "grüße ✓", 2**40, 1.5, True, None, [1, {"k": "v"}], b"\x00\x01\xfe\xff", key="val")
    out["echo"] = {
        "args": [x.hex() if isinstance(x, (bytes, bytearray)) else x for x in echo.results] if hasattr(echo, "results") else None,
        "kwargs": echo.kwresults if hasattr(echo, "kwresults") else None,
    }

    pub = await b.publish("py.topic", 1, 2, color="red", options=PublishOptions(acknowledge=True))
    out["publication_id"] = pub.id
    await b.publish("py.pfx.kitchen", "x", options=PublishOptions(acknowledge=True))
    await asyncio.wait_for(got_events.wait(), 5)
    out["events"] = events

    try:
        await b.publish("wamp.session.on_join", options=PublishOptions(acknowledge=True))
    except ApplicationError as e:
        out["reserved_publish"] = e.error

    a.leave()
    b.leave()
    await asyncio.sleep(0.1)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["ws", "rawsocket"], required=True)
    parser.add_argument("--serializer", choices=list(SERIALIZERS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--realm", default="realm1")
    args = parser.parse_args()
    out = asyncio.run(asyncio.wait_for(scenario(args), 30))
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
