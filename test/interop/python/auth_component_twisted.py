"""An Autobahn|Python (Debian python3-autobahn, Twisted) Component that authenticates the way
Crossbar's docs show it: Autobahn's own authenticators from an `authentication` dict. Once joined
it calls test.echo, prints one JSON line with what happened, and leaves.

    auth_component_twisted.py --url ws://127.0.0.1:N/ws --method scram|cryptosign|ticket
                              [--realm NAME|none] [--authid ID] [--secret S] [--private-key HEX]
"""

import argparse
import json
import os
import sys

from autobahn.twisted.component import Component, run
from twisted.internet.defer import inlineCallbacks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--method", required=True)
    p.add_argument("--realm", default="realm1")
    p.add_argument("--authid")
    p.add_argument("--secret", default="")
    p.add_argument("--private-key")
    args = p.parse_args()

    if args.method == "scram":
        authentication = {"scram": {"authid": args.authid, "password": args.secret, "kdf": "argon2id-13"}}
    elif args.method == "cryptosign":
        authentication = {"cryptosign": {"privkey": args.private_key}}
    else:
        authentication = {"ticket": {"authid": args.authid, "ticket": args.secret}}
    if args.method == "scram":
        # AuthScram takes only what it reads; "kdf" above is for readers of Crossbar's examples.
        authentication["scram"].pop("kdf")

    component = Component(
        transports=[{"type": "websocket", "url": args.url, "max_retries": 0}],
        realm=None if args.realm == "none" else args.realm,
        authentication=authentication,
    )
    result = {}

    def report(what):
        # The real stdout: Twisted's logging takes over print().
        sys.__stdout__.write("RESULT " + json.dumps(what) + "\n")
        sys.__stdout__.flush()

    @component.on_join
    @inlineCallbacks
    def joined(session, details):
        result["welcome"] = {"authid": details.authid, "authrole": details.authrole, "authmethod": details.authmethod,
                             "authprovider": details.authprovider, "realm": details.realm}
        result["echo"] = yield session.call("test.echo", "hello")
        report(result)
        yield session.leave()

    @component.on_leave
    def left(session, details):
        if "welcome" not in result:
            # Refused: report it and stop, instead of letting the Component try again.
            report({"abort": details.reason})
            from twisted.internet import reactor
            reactor.callLater(0, reactor.stop)

    # run() ends the process (Twisted's react), so the result is printed from the handlers.
    run([component], log_level=os.environ.get("AUTH_PEER_LOG", "error"))


if __name__ == "__main__":
    sys.exit(main())
