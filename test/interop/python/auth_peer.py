"""An Autobahn|Python (Debian python3-autobahn, asyncio) client that logs in with one
authentication method, calls test.echo once joined, and prints one JSON line with what happened.

    auth_peer.py --port N --transport ws|rawsocket --method ticket|wampcra|cryptosign
                 [--authid ID] [--secret S] [--private-key HEX] [--replay SIGNATURE]
                 [--tls CA_FILE]   (wss:// or RawSocket over TLS, verifying the router's certificate)
"""

import argparse
import asyncio
import binascii
import inspect
import json
import ssl
import sys

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol
from autobahn.wamp import auth, cryptosign
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig

# Client quirk (Autobahn|Python 22.7): see peer.py.
if not hasattr(WampRawSocketClientProtocol, "transport_details"):
    WampRawSocketClientProtocol.transport_details = property(lambda self: self._transport_details)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--transport", default="ws")
    p.add_argument("--method", required=True)
    p.add_argument("--authid")
    p.add_argument("--secret", default="")
    p.add_argument("--private-key")
    p.add_argument("--replay", help="send this signature instead of computing one")
    p.add_argument("--tls", help="CA file: connect with TLS and verify the router's certificate against it")
    args = p.parse_args()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    done = loop.create_future()
    key = cryptosign.CryptosignKey.from_bytes(binascii.a2b_hex(args.private_key)) if args.private_key else None

    class Peer(ApplicationSession):
        def onConnect(self):
            extra = {"pubkey": key.public_key(binary=False)} if key else None
            self.join("realm1", authmethods=[args.method], authid=args.authid, authextra=extra)

        async def onChallenge(self, challenge):
            if args.replay:
                return args.replay
            if challenge.method == "ticket":
                return args.secret
            if challenge.method == "wampcra":
                secret = args.secret
                if "salt" in challenge.extra:
                    secret = auth.derive_key(secret, challenge.extra["salt"], challenge.extra["iterations"], challenge.extra["keylen"])
                signature = auth.compute_wcs(secret, challenge.extra["challenge"])
                return signature.decode("ascii") if isinstance(signature, bytes) else signature
            if challenge.method == "cryptosign":
                signed = key.sign_challenge(challenge)
                if inspect.isawaitable(signed):
                    signed = await signed
                if isinstance(signed, bytes):
                    signed = signed.decode("ascii")
                print(json.dumps({"signature": signed}), flush=True)
                return signed
            raise Exception("unexpected challenge " + challenge.method)

        async def onJoin(self, details):
            echo = await self.call("test.echo", "hello")
            if not done.done():
                done.set_result({"welcome": {"authid": details.authid, "authrole": details.authrole,
                                              "authmethod": details.authmethod, "authprovider": details.authprovider},
                                 "echo": echo})
            self.leave()

        def onLeave(self, details):
            if not done.done():
                done.set_result({"abort": details.reason, "message": details.message})
            self.disconnect()

        def onDisconnect(self):
            if not done.done():
                done.set_result({"abort": "disconnected"})

    make = lambda: Peer(ComponentConfig(realm="realm1"))
    tls = ssl.create_default_context(cafile=args.tls) if args.tls else None
    if args.transport == "ws":
        scheme = "wss" if tls else "ws"
        factory = WampWebSocketClientFactory(make, url=f"{scheme}://localhost:{args.port}/ws", serializers=[JsonSerializer()])
    else:
        factory = WampRawSocketClientFactory(make, serializer=JsonSerializer())
    if tls:
        loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", args.port, ssl=tls, server_hostname="localhost"))
    else:
        loop.run_until_complete(loop.create_connection(factory, "127.0.0.1", args.port))
    result = loop.run_until_complete(asyncio.wait_for(done, 20))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
