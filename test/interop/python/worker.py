"""A microservice instance for scale-out tests: an Autobahn|Python callee in its own process.

Same contract as workers/worker.cjs:
    worker.py <url> <realm> <procedure> <name> <invoke> <concurrency|0> <delayMs> <cpuMs>
Prints READY once registered; each call returns {worker, running}; a call beyond the declared
concurrency fails with test.error.overloaded.
"""

import asyncio
import sys
import time

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer
from autobahn.wamp.types import ComponentConfig, RegisterOptions

url, realm, procedure, name, invoke, concurrency, delay_ms, cpu_ms = sys.argv[1:9]
concurrency = int(concurrency)
delay_ms = int(delay_ms)
cpu_ms = int(cpu_ms)


class Worker(ApplicationSession):
    running = 0

    async def onJoin(self, details):
        async def handler():
            Worker.running += 1
            now = Worker.running
            try:
                if concurrency > 0 and now > concurrency:
                    raise ApplicationError("test.error.overloaded", name, now)
                end = time.monotonic() + cpu_ms / 1000
                while time.monotonic() < end:
                    pass
                if delay_ms > 0:
                    await asyncio.sleep(delay_ms / 1000)
                return {"worker": name, "running": now}
            finally:
                Worker.running -= 1

        options = RegisterOptions(invoke=invoke, concurrency=concurrency if concurrency > 0 else None)
        await self.register(handler, procedure, options=options)
        print("READY", flush=True)

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


async def main():
    loop = asyncio.get_running_loop()
    factory = WampWebSocketClientFactory(lambda: Worker(ComponentConfig(realm=realm)), url=url, serializers=[JsonSerializer()])
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    await loop.create_connection(factory, host, int(port))
    await asyncio.Event().wait()


try:
    asyncio.run(main())
except RuntimeError:
    pass
