// `junction init [DIR]`: a commented starter configuration. Loaded as is, it gives exactly the
// embedded default (defaultConfig()); the commented-out lines show the common next steps.

// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { flowYaml } from './config-text.js';
import { DASHBOARD_WEBSOCKET, dashboardAuth } from './dashboard-roles.js';

export const STARTER_FILE = 'junction.yaml';

/** An optional section of the starter file, written commented out at its own indentation. */
export interface StarterExample {
  /** Spaces before the YAML of this block (where its `#` goes). */
  indent: number;
  /** The block as it reads uncommented; its lines may end in comments but are never only a comment. */
  text: string;
}

/**
 * The starter's commented-out examples. Each one, uncommented, passes `junction check`
 * (test/integration/init.test.ts): they are what a user copies from.
 */
export const STARTER_EXAMPLES = {
  mqtt: { indent: 6, text: `\
      - type: mqtt               # MQTT 3.1, 3.1.1 and 5 clients; each is a WAMP session of the realm
        id: mqtt
        endpoint:
          type: tcp
          port: 1883
          interface: 127.0.0.1   # 0.0.0.0 for devices on the network
        options:
          realm: realm1
          role: anonymous        # the role MQTT clients join with (no auth block here)
          topic_prefix: ""       # "": sensors/t1 <-> sensors.t1; "mqtt." puts every topic under mqtt.
          session_file: /var/lib/junction/mqtt-sessions.json   # persistent sessions survive restarts and upgrades` },
  serial: { indent: 0, text: `\
serial:                         # boards speaking firmware-bridges/PROTOCOL.md over USB serial
  - id: usb                     # its state: junction.serial.usb.devices
    realm: realm1
    prefix: devices             # readings: devices.<board>.<topic>; procedures: devices.<name>
    ports:
      - { path: "/dev/serial/by-id/usb-Arduino*", baud: 115200 }   # a glob: picked up when plugged in
      - { path: /dev/ttyACM0 }` },
  telemetry: { indent: 0, text: `\
telemetry:                      # CPU load (total, per core), temperature, memory, uptime ...
  realm: realm1                 # ... to junction.board.<hostname>.load (retained), .info on demand
  cron: "*/5 * * * * *"         # every 5 s (node-cron, seconds first)` },
  schedules: { indent: 0, text: `\
schedules:                      # timed publishes and calls; cron: [seconds] minute hour day month weekday
  - name: lamp-off
    cron: "0 0 23 * * *"        # every day at 23:00:00
    publish: { topic: home.lamp.set, args: [false] }
  - name: nightly-backup
    cron: "30 2 * * *"          # every day at 02:30
    call: { procedure: svc.backup, args: [full], timeout: 600000 }` },
} satisfies Record<string, StarterExample>;

/** The example as it appears in the starter: \`# \` at the block's indentation on every line. */
export function commentedOut(example: StarterExample): string {
  return example.text.split('\n').map((line) => `${line.slice(0, example.indent)}# ${line.slice(example.indent)}`).join('\n');
}

export function starterConfig(): string {
  return `# Junction configuration, in Crossbar.io's config format (version 2): a Crossbar config.json
# with one router worker also works here. Check a file with:
#   junction check --config junction.yaml
# Times are in milliseconds and sizes in bytes. Relative file paths are relative to this file.

version: 2                    # the config format version; always 2

workers:
  - type: router              # Junction runs exactly one worker, of type "router"

    # A realm is a routing namespace: clients name it when they join, and only clients in the
    # same realm see each other's procedures and topics.
    realms:
      - name: realm1
        roles:
          # Clients on a transport without an auth block join with the role "anonymous".
          - name: anonymous
            permissions:
              # uri "" with match prefix covers every URI. To narrow it, use e.g.
              # uri "com.example." (prefix), "com.example.add" (exact) or "sensors..temp"
              # (wildcard: an empty component matches any one component).
              - uri: ""
                match: prefix         # exact | prefix | wildcard
                allow:                # what clients with this role may do
                  call: true
                  register: true
                  publish: true
                  subscribe: true
                disclose:             # tell callees / subscribers who called / published
                  caller: false
                  publisher: false
                cache: true           # remember this decision per URI (faster)
          # The status dashboard's read-only roles are built in (README, "Status dashboard"):
          # "monitor" sees everything (sessions, registrations, subscriptions, events), "dashboard"
          # only counts and the bridges' and board's state. Define a role of the same name to change one.
        # options:
        #   uri_check: loose        # loose (default) | strict: only lowercase letters, digits, _
        #   enable_meta_api: true   # the wamp.session.* / wamp.registration.* procedures and events
        # store:                    # optional: call queueing and event history
        #   type: memory
        #   call-queue:             # when every callee is busy, calls wait in a queue
        #     - uri: "com.example."
        #       match: prefix
        #       limit: 100          # most waiting calls; more get an error
        #       timeout: 30000      # ms a queued call may wait (Junction extension)
        #   event-history:          # keep recent events for wamp.subscription.get_events
        #     - uri: "sensors."
        #       match: prefix
        #       limit: 50

    # Where Junction listens. A universal transport serves WebSocket, RawSocket and plain HTTP
    # (static files) on one port.
    transports:
      - type: universal
        id: default              # a name for logs
        endpoint:
          type: tcp
          port: 8080
          interface: 127.0.0.1   # this machine only; 0.0.0.0 accepts connections from the network
          # tls:                 # serve wss:// and TLS RawSocket instead
          #   key: key.pem
          #   certificate: cert.pem
        rawsocket:               # RawSocket clients (first byte 0x7F) on the same port
          serializers: [json, msgpack, cbor, ubjson]
        websocket:
          ws:                    # WebSocket at ws://127.0.0.1:8080/ws
            serializers: [json, msgpack, cbor, ubjson]
            # options:
            #   auto_ping_interval: 10000   # ping each client every 10 s (0 = never) ...
            #   auto_ping_timeout: 5000     # ... and drop it if no pong comes within 5 s
            #   max_message_size: 1048576   # bytes
            #   allowed_origins: ["*"]      # browser origins allowed to connect
            # auth:                         # without an auth block everyone is "anonymous"
            #   ticket:
            #     type: static
            #     principals:
            #       device-1: { ticket: "\${DEVICE1_TICKET}", role: anonymous }  # secret from the environment
          ${DASHBOARD_WEBSOCKET}:          # the dashboard's WebSocket: anonymous clients get the read-only role
            serializers: [json, msgpack, cbor, ubjson]
            auth:
              # "monitor" shows who is connected: fine on this machine only. On a network, give
              # anonymous the role "dashboard" and sign in with a ticket whose role is "monitor".
              anonymous: ${flowYaml(dashboardAuth().anonymous)}
        web:
          paths:
            "/":                 # the status dashboard at http://127.0.0.1:8080/
              type: dashboard    # Junction's own: built-in page; or type: static with a directory
              realm: realm1
              websocket: ${DASHBOARD_WEBSOCKET}
              # setup: /var/lib/junction/setup.json   # first boot's credentials, shown for the setup code

      # An MQTT listener (the README's "MQTT" section): remove the "# " to enable it.
${commentedOut(STARTER_EXAMPLES.mqtt)}

# Junction's own sections, beside Crossbar's keys (the README's "Serial devices" and "Board
# telemetry and schedules"): remove the "# " of a block to enable it.
${commentedOut(STARTER_EXAMPLES.serial)}

${commentedOut(STARTER_EXAMPLES.telemetry)}

${commentedOut(STARTER_EXAMPLES.schedules)}
`;
}

/**
 * Writes `text` (default: the starter) to DIR/junction.yaml, creating DIR, and returns its path;
 * refuses to overwrite an existing file.
 */
export async function writeStarter(dir: string, text: string = starterConfig()): Promise<string> {
  const path = join(dir, STARTER_FILE);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new Error(`cannot create directory ${resolve(dir)}: a file is in the way`);
    if (code === 'EACCES') throw new Error(`cannot create directory ${resolve(dir)}: permission denied`);
    throw err;
  }
  try {
    await fsp.writeFile(path, text, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${resolve(path)} already exists; not overwriting it (remove it first, or pick another directory)`);
    if (code === 'EACCES') throw new Error(`cannot write ${resolve(path)}: permission denied`);
    throw err;
  }
  return path;
}
