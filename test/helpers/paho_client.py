# Eclipse Paho (Debian python3-paho-mqtt) driven by a list of steps, for test/helpers/paho.ts.
# argv[1]: the broker's port; argv[2]: the steps as JSON. Prints one JSON object, {"events": [...]},
# every step's outcome and every message received, in the order they happened.
#
# Steps ({"op": ..., "client": name} with a name of the test's choosing, several clients per run):
#   connect      id, version (3 = MQTT 3.1, 4 = 3.1.1, 5), clean, keepalive, session_expiry (5),
#                will {topic, payload, qos, retain}          -> connack {rc, session_present}
#   subscribe    filters [[filter, qos], ...]                 -> suback {codes}
#   unsubscribe  filters [filter, ...]                        -> unsuback
#   publish      topic, payload, qos, retain                  -> published (once acknowledged)
#   expect       count, timeout: until the client holds `count` messages (no event; the
#                messages are events of their own)
#   sleep        seconds
#   disconnect   a DISCONNECT packet, then the socket closed  -> disconnected
#   drop         the socket closed without DISCONNECT (a lost connection)
#   go_silent    the client stops sending anything (no PINGREQ), socket left open
#   await_close  timeout: until the server closes a silent client's socket -> closed_by_server {after}
#   ready        prints {"ready": true} at once, so the test can act (e.g. publish with another
#                client) while the steps after it wait for messages
import json
import select
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROTOCOLS = {3: mqtt.MQTTv31, 4: mqtt.MQTTv311, 5: mqtt.MQTTv5}
events = []
clients = {}


def record(kind, name, **fields):
    events.append({'event': kind, 'client': name, **fields})


def code(value):
    """A reason code (MQTT 5, paho's ReasonCodes) or a plain int (3.1/3.1.1) as an int."""
    return value.value if hasattr(value, 'value') else int(value)


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f'timed out after {timeout} s waiting for {what}')
        time.sleep(0.01)


class Peer:
    def __init__(self, name, step):
        self.name = name
        self.version = step.get('version', 4)
        self.messages = []
        self.acks = {}
        kwargs = {'client_id': step.get('id', name), 'protocol': PROTOCOLS[self.version]}
        if self.version != 5:
            kwargs['clean_session'] = step.get('clean', True)
        if hasattr(mqtt, 'CallbackAPIVersion'):  # paho 2.x: keep the 1.x callback signatures
            kwargs['callback_api_version'] = mqtt.CallbackAPIVersion.VERSION1
        self.client = mqtt.Client(**kwargs)
        self.client.on_connect = self.on_connect
        self.client.on_subscribe = self.on_subscribe
        self.client.on_unsubscribe = self.on_unsubscribe
        self.client.on_message = self.on_message
        will = step.get('will')
        if will:
            self.client.will_set(will['topic'], will.get('payload', ''), will.get('qos', 0), will.get('retain', False))
        self.connack = None

    def on_connect(self, _client, _userdata, flags, rc, _properties=None):
        self.connack = {'rc': code(rc), 'session_present': bool(flags.get('session present'))}

    def on_subscribe(self, _client, _userdata, mid, granted, _properties=None):
        self.acks[mid] = [code(g) for g in granted]

    def on_unsubscribe(self, _client, _userdata, mid, *_rest):
        self.acks[mid] = True

    def on_message(self, _client, _userdata, message):
        entry = {'topic': message.topic, 'payload': message.payload.decode('utf-8', 'replace'),
                 'qos': message.qos, 'retain': bool(message.retain)}
        self.messages.append(entry)
        record('message', self.name, **entry)


def connect(name, step):
    peer = Peer(name, step)
    clients[name] = peer
    options = {'keepalive': step.get('keepalive', 60)}
    if peer.version == 5:
        options['clean_start'] = step.get('clean', True)
        if 'session_expiry' in step:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = step['session_expiry']
            options['properties'] = properties
    peer.client.connect('127.0.0.1', PORT, **options)
    peer.client.loop_start()
    wait(lambda: peer.connack is not None, 10, f'CONNACK for {name}')
    record('connack', name, **peer.connack)


def acknowledged(peer, mid, what):
    wait(lambda: mid in peer.acks, 10, what)
    return peer.acks.pop(mid)


def run(step):
    op = step['op']
    name = step.get('client')
    peer = clients.get(name)
    if op == 'connect':
        connect(name, step)
    elif op == 'subscribe':
        _rc, mid = peer.client.subscribe([(f, q) for f, q in step['filters']])
        record('suback', name, codes=acknowledged(peer, mid, f'SUBACK for {name}'))
    elif op == 'unsubscribe':
        _rc, mid = peer.client.unsubscribe(step['filters'])
        acknowledged(peer, mid, f'UNSUBACK for {name}')
        record('unsuback', name)
    elif op == 'publish':
        info = peer.client.publish(step['topic'], step.get('payload', ''), step.get('qos', 0), step.get('retain', False))
        wait(info.is_published, 10, f'the acknowledgement of {name}\'s publish')
        record('published', name, topic=step['topic'])
    elif op == 'expect':
        count = step['count']
        wait(lambda: len(peer.messages) >= count, step.get('timeout', 10), f'{count} messages for {name}')
    elif op == 'ready':
        print(json.dumps({'ready': True}), flush=True)
    elif op == 'sleep':
        time.sleep(step['seconds'])
    elif op == 'disconnect':
        peer.client.disconnect()
        peer.client.loop_stop()
        record('disconnected', name)
    elif op == 'drop':
        peer.client.loop_stop()
        peer.client.socket().close()
    elif op == 'go_silent':
        peer.client.loop_stop()
    elif op == 'await_close':
        sock = peer.client.socket()
        started = time.monotonic()
        deadline = started + step.get('timeout', 10)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f'the server did not close {name}\'s connection')
            readable, _, _ = select.select([sock], [], [], remaining)
            if readable and sock.recv(4096) == b'':
                break
        record('closed_by_server', name, after=round(time.monotonic() - started, 2))
    else:
        raise ValueError(f'unknown step {op}')


PORT = int(sys.argv[1])
try:
    for step in json.loads(sys.argv[2]):
        run(step)
except Exception as err:  # reported with what was seen so far
    events.append({'event': 'error', 'message': f'{type(err).__name__}: {err}'})
finally:
    for peer in clients.values():
        peer.client.loop_stop()
print(json.dumps({'events': events}))
