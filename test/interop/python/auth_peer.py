"""An Autobahn|Python (Debian python3-autobahn, asyncio) client that logs in with one
authentication method, calls test.echo once joined, and prints one JSON line with what happened.

    auth_peer.py --port N --transport ws|rawsocket --method ticket|wampcra|cryptosign|scram|tls
                 [--authid ID] [--secret S] [--private-key HEX] [--replay SIGNATURE]
                 [--realm NAME]   (default realm1; "none" joins without naming a realm)
                 [--channel-binding tls-unique]   (Cryptosign bound to the TLS channel)
                 [--tls CA_FILE]   (wss:// or RawSocket over TLS, verifying the router's certificate)
                 [--client-cert PEM --client-key PEM] [--tls12]   (a TLS client certificate; TLS 1.2 at most)
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
    p.add_argument("--realm", default="realm1")
    p.add_argument("--path", default="/ws", help="WebSocket path")
    p.add_argument("--channel-binding")
    p.add_argument("--sign-unbound", action="store_true", help="ask for the channel binding but sign the bare challenge")
    p.add_argument("--client-cert")
    p.add_argument("--client-key")
    p.add_argument("--tls12", action="store_true")
    args = p.parse_args()
    realm = None if args.realm == "none" else args.realm
    # SCRAM as Crossbar's docs show it: Autobahn's own authenticator computes the proof and checks
    # the router's signature in WELCOME.
    scram = auth.AuthScram(authid=args.authid, password=args.secret) if args.method == "scram" else None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    done = loop.create_future()
    key = cryptosign.CryptosignKey.from_bytes(binascii.a2b_hex(args.private_key)) if args.private_key else None

    class Peer(ApplicationSession):
        def onConnect(self):
            extra = {"pubkey": key.public_key(binary=False)} if key else None
            if key and args.channel_binding:
                extra["channel_binding"] = args.channel_binding
            if scram:
                extra = scram.authextra
            self.join(realm, authmethods=[args.method], authid=args.authid, authextra=extra)

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
            if challenge.method == "scram":
                proof = scram.on_challenge(self, challenge)
                return proof.decode("ascii") if isinstance(proof, bytes) else proof
            if challenge.method == "cryptosign":
                bound = args.channel_binding and not args.sign_unbound
                channel_id = self._transport.transport_details.channel_id.get(args.channel_binding) if bound else None
                signed = key.sign_challenge(challenge, channel_id=channel_id, channel_id_type=args.channel_binding if bound else None)
                if inspect.isawaitable(signed):
                    signed = await signed
                if isinstance(signed, bytes):
                    signed = signed.decode("ascii")
                print(json.dumps({"signature": signed, "challenge": challenge.extra}), flush=True)
                return signed
            raise Exception("unexpected challenge " + challenge.method)

        async def onJoin(self, details):
            if scram:
                failed = scram.on_welcome(self, details.authextra)
                if failed:
                    done.set_result({"server_signature": failed})
            echo = await self.call("test.echo", "hello")
            if not done.done():
                done.set_result({"welcome": {"authid": details.authid, "authrole": details.authrole,
                                              "authmethod": details.authmethod, "authprovider": details.authprovider,
                                              "realm": details.realm},
                                 "echo": echo})
            self.leave()

        def onLeave(self, details):
            if not done.done():
                done.set_result({"abort": details.reason, "message": details.message})
            self.disconnect()

        def onDisconnect(self):
            if not done.done():
                done.set_result({"abort": "disconnected"})

    make = lambda: Peer(ComponentConfig(realm=realm))
    tls = ssl.create_default_context(cafile=args.tls) if args.tls else None
    if tls and args.client_cert:
        tls.load_cert_chain(args.client_cert, args.client_key)
    if tls and args.tls12:
        tls.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.transport == "ws":
        scheme = "wss" if tls else "ws"
        factory = WampWebSocketClientFactory(make, url=f"{scheme}://localhost:{args.port}{args.path}", serializers=[JsonSerializer()])
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
