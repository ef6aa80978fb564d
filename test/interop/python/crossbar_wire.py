"""Autobahn|Python clients written the way Crossbar's documentation shows (ApplicationSession,
ApplicationRunner), for the wire details where Crossbar and the WAMP spec differ.

  crossbar_wire.py asyncio|twisted <url> [--varargs]

The monitor subscribes to wamp.session.on_join and wamp.session.on_leave (a one-argument
on_leave handler, as Crossbar's examples write it; --varargs takes any number), prints READY, and
for the first session that joins: compares wamp.session.get with the on_join details, kills it
with reason and message given positionally, waits for its on_leave, then leave()s and prints one
JSON line with what it saw, including the reason of the router's GOODBYE reply.
"""

import json
import sys

flavor, url = sys.argv[1], sys.argv[2]
varargs = "--varargs" in sys.argv
result = {"leaves": []}


def say(line):
    # Twisted's runner routes sys.stdout through its logger (timestamps): write to the real stdout.
    sys.__stdout__.write(line + "\n")
    sys.__stdout__.flush()


def report():
    say(json.dumps(result))


def leave_handler(victim, gone):
    """wamp.session.on_leave's handler: one argument, as Crossbar's examples write it (a router that
    sends more makes Autobahn fail the call), or any number with --varargs."""
    if varargs:
        def on_leave(*args):
            result["leaves"].append(list(args))
            if args[0] == victim():
                gone()
    else:
        def on_leave(session_id):
            result["leaves"].append([session_id])
            if session_id == victim():
                gone()
    return on_leave


if flavor == "asyncio":
    import asyncio

    from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession

    class Monitor(ApplicationSession):
        async def onJoin(self, details):
            self.victim = None
            self.victim_left = asyncio.get_event_loop().create_future()

            async def on_join(info):
                if self.victim is not None:
                    return
                self.victim = info["session"]
                got = await self.call("wamp.session.get", self.victim)
                result["get_equals_on_join"] = got == info
                result["get_keys"] = sorted(got.keys())
                await self.call("wamp.session.kill", self.victim, "com.example.maintenance", "back soon")
                await asyncio.wait_for(self.victim_left, 10)
                self.leave()

            def gone():
                if not self.victim_left.done():
                    self.victim_left.set_result(True)

            await self.subscribe(on_join, "wamp.session.on_join")
            await self.subscribe(leave_handler(lambda: self.victim, gone), "wamp.session.on_leave")
            say("READY")

        def onLeave(self, details):
            result["close_reason"] = details.reason
            self.disconnect()

        def onDisconnect(self):
            report()
            asyncio.get_event_loop().stop()

    ApplicationRunner(url, "realm1").run(Monitor)

else:
    from autobahn.twisted.util import sleep
    from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
    from twisted.internet import reactor
    from twisted.internet.defer import inlineCallbacks

    class Monitor(ApplicationSession):
        @inlineCallbacks
        def onJoin(self, details):
            self.victim = None
            self.victim_gone = False

            @inlineCallbacks
            def on_join(info):
                if self.victim is not None:
                    return
                self.victim = info["session"]
                got = yield self.call("wamp.session.get", self.victim)
                result["get_equals_on_join"] = got == info
                result["get_keys"] = sorted(got.keys())
                yield self.call("wamp.session.kill", self.victim, "com.example.maintenance", "back soon")
                for _ in range(100):
                    if self.victim_gone:
                        break
                    yield sleep(0.1)
                self.leave()

            def gone():
                self.victim_gone = True

            yield self.subscribe(on_join, "wamp.session.on_join")
            yield self.subscribe(leave_handler(lambda: self.victim, gone), "wamp.session.on_leave")
            say("READY")

        def onLeave(self, details):
            result["close_reason"] = details.reason
            self.disconnect()

        def onDisconnect(self):
            report()
            if reactor.running:
                reactor.stop()

    ApplicationRunner(url, "realm1").run(Monitor)
