"""Finds a board the way a laptop on its network would: resolves HOST.local over mDNS and browses
DNS-SD service types (python-zeroconf, Debian's python3-zeroconf). Prints one JSON object:
{"address": "...", "services": {"_wamp._tcp": [{"name", "port", "txt"}], ...}}. Waits until every
TYPE=PORT expectation is seen (a restarted board re-announcing), or the timeout.

usage: mdns_browse.py HOST TIMEOUT_S TYPE[=PORT] ...
"""
import json
import socket
import sys
import time

from zeroconf import DNSOutgoing, DNSQuestion, IPVersion, ServiceBrowser, Zeroconf
from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_A


def main():
    host, timeout = sys.argv[1], float(sys.argv[2])
    wanted = {}
    for arg in sys.argv[3:]:
        kind, _, port = arg.partition('=')
        wanted[kind + '.local.'] = int(port) if port else None
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    found = {kind: {} for kind in wanted}

    class Listener:
        def add_service(self, zc, kind, name):
            self.update_service(zc, kind, name)

        def update_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name, timeout=2000)
            if info is not None:
                txt = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
                found[kind][name] = {'name': name, 'port': info.port, 'txt': txt, 'server': info.server}

        def remove_service(self, zc, kind, name):
            found[kind].pop(name, None)

    browsers = [ServiceBrowser(zc, kind, Listener()) for kind in wanted]
    address = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if address is None:
            # A one-shot mDNS A query for HOST.local, as nss-mdns or avahi-resolve would send.
            addrs = resolve_host(zc, host + '.local.')
            address = addrs[0] if addrs else None
        done = address is not None and all(
            any(port is None or s['port'] == port for s in found[kind].values()) for kind, port in wanted.items())
        if done:
            break
        time.sleep(0.1)
    for b in browsers:
        b.cancel()
    zc.close()
    print(json.dumps({'address': address, 'services': {k[:-len('.local.')]: list(v.values()) for k, v in found.items()}}))


def resolve_host(zc, name):
    cached = zc.cache.get_all_by_details(name, _TYPE_A, _CLASS_IN)
    if cached:
        return [socket.inet_ntoa(r.address) for r in cached]
    out = DNSOutgoing(_FLAGS_QR_QUERY)
    out.add_question(DNSQuestion(name, _TYPE_A, _CLASS_IN))
    zc.send(out)
    time.sleep(0.3)
    return [socket.inet_ntoa(r.address) for r in zc.cache.get_all_by_details(name, _TYPE_A, _CLASS_IN)]


if __name__ == '__main__':
    main()
