// `junction init [DIR]`: a commented starter configuration, equivalent to the embedded default.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export function starterConfig(): string {
  return `# Junction configuration (Crossbar.io's format, version 2). Validate with:
#   junction check --config junction.yaml
version: 2
workers:
  - type: router            # Junction runs exactly one router worker
    realms:
      - name: realm1        # clients join a realm by name (HELLO)
        roles:
          - name: anonymous # the role of clients when a transport has no auth block
            permissions:
              # uri "" with match prefix covers every URI. Narrow it for production, e.g.
              # uri "com.example." match prefix, or uri "sensors..temp" match wildcard.
              - uri: ""
                match: prefix          # exact | prefix | wildcard
                allow: { call: true, register: true, publish: true, subscribe: true }
                disclose: { caller: false, publisher: false }  # reveal caller/publisher identity
                cache: true
        # store:                 # optional: queue calls when every callee is busy
        #   type: memory
        #   call-queue:
        #     - { uri: "com.example.", match: prefix, limit: 1000, timeout: 30000 }
        #   event-history:
        #     - { uri: "sensors.", match: prefix, limit: 100 }
    transports:
      - type: universal      # WebSocket, RawSocket and HTTP on one port
        endpoint:
          type: tcp
          port: 8080
          interface: 127.0.0.1   # 0.0.0.0 to accept connections from the network
        rawsocket:
          serializers: [json, msgpack, cbor]
        websocket:
          ws:                    # ws://127.0.0.1:8080/ws
            serializers: [json, msgpack, cbor]
            options:
              auto_ping_interval: 10000   # ms; drop peers that miss a pong for 5 s
              auto_ping_timeout: 5000
`;
}

/** Writes DIR/junction.yaml; refuses to overwrite an existing file. */
export async function writeStarter(dir: string): Promise<string> {
  const path = join(dir, 'junction.yaml');
  try {
    await writeFile(path, starterConfig(), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} already exists; not overwriting it`);
    throw err;
  }
  return path;
}
