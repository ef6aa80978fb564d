"""A WebSocket client written with Autobahn|Python (asyncio), for Crossbar's websocket.testee:
offers permessage-deflate, sends a text message, a binary one, and then one of SIZE bytes, and
prints one JSON line per event: the handshake's extensions, each echo (binary or text, its
content), and the close code.

    testee_echo_client.py URL SIZE
"""
import asyncio
import json
import sys

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateResponse, PerMessageDeflateResponseAccept

URL, SIZE = sys.argv[1], int(sys.argv[2])
TEXT = "grüße ✓"
BINARY = bytes(range(256))


def out(**kw):
    print(json.dumps(kw), flush=True)


class Client(WebSocketClientProtocol):
    def onOpen(self):
        out(event="open", extensions=[e.EXTENSION_NAME for e in self.websocket_extensions_in_use])
        self.received = 0
        self.sendMessage(TEXT.encode("utf-8"), isBinary=False)
        self.sendMessage(BINARY, isBinary=True)

    def onMessage(self, payload, isBinary):
        self.received += 1
        if isBinary:
            out(event="message", binary=True, hex=payload.hex())
        else:
            out(event="message", binary=False, text=payload.decode("utf-8"))
        if self.received == 2:
            self.sendMessage(b"x" * SIZE, isBinary=True)

    def onClose(self, wasClean, code, reason):
        out(event="close", code=code, remote_code=self.remoteCloseCode)
        asyncio.get_event_loop().stop()


def accept(response):
    if isinstance(response, PerMessageDeflateResponse):
        return PerMessageDeflateResponseAccept(response)


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
factory = WebSocketClientFactory(URL, loop=loop)
factory.protocol = Client
factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()], perMessageCompressionAccept=accept)
host, port = URL.split("//")[1].split("/")[0].split(":")
loop.run_until_complete(loop.create_connection(factory, host, int(port)))
loop.call_later(10, loop.stop)
loop.run_forever()
