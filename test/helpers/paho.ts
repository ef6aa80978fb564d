// Eclipse Paho, the MQTT project's own Python client (Debian python3-paho-mqtt, installed by
// .ci/run), against a broker on 127.0.0.1: runs test/helpers/paho_client.py with a list of steps
// and returns what the clients saw (CONNACKs, SUBACK codes, messages, connections the broker
// closed), in order. Several named clients per run; see paho_client.py for the steps.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('./paho_client.py', import.meta.url));
// Debian's python3-paho-mqtt lives in the system interpreter, not in a pyenv one on PATH.
const PYTHON = process.env['JUNCTION_PYTHON'] ?? '/usr/bin/python3';

/** 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0 (as MQTT.js counts them). */
export type PahoVersion = 3 | 4 | 5;

export type PahoStep =
  | { op: 'connect'; client: string; id?: string; version?: PahoVersion; clean?: boolean; keepalive?: number; session_expiry?: number;
    will?: { topic: string; payload?: string; qos?: 0 | 1 | 2; retain?: boolean } }
  | { op: 'subscribe'; client: string; filters: Array<[string, 0 | 1 | 2]> }
  | { op: 'unsubscribe'; client: string; filters: string[] }
  | { op: 'publish'; client: string; topic: string; payload?: string; qos?: 0 | 1 | 2; retain?: boolean }
  | { op: 'expect'; client: string; count: number; timeout?: number }
  | { op: 'sleep'; seconds: number }
  | { op: 'ready' }
  | { op: 'disconnect' | 'drop' | 'go_silent'; client: string }
  | { op: 'await_close'; client: string; timeout?: number };

export interface PahoMessage { topic: string; payload: string; qos: number; retain: boolean }

export type PahoEvent =
  | { event: 'connack'; client: string; rc: number; session_present: boolean }
  | { event: 'suback'; client: string; codes: number[] }
  | ({ event: 'message'; client: string } & PahoMessage)
  | { event: 'unsuback' | 'published' | 'disconnected'; client: string; topic?: string }
  | { event: 'closed_by_server'; client: string; after: number }
  | { event: 'error'; message: string };

export interface PahoRun {
  events: PahoEvent[];
  /** The CONNACKs `client` got, in order. */
  connacks(client: string): Array<{ rc: number; session_present: boolean }>;
  /** The SUBACK codes `client` got, one array per SUBSCRIBE. */
  subacks(client: string): number[][];
  /** The messages `client` received. */
  messages(client: string): PahoMessage[];
}

/** Runs `steps` against the broker on 127.0.0.1:`port`; throws when a step failed (with the events so far). */
export function paho(port: number, steps: PahoStep[], timeoutMs = 30_000): Promise<PahoRun> {
  return startPaho(port, steps, timeoutMs).result;
}

/**
 * The same, started in the background: `ready` resolves when the steps reach their `ready` step
 * (the test then acts, e.g. publishes with mosquitto_pub, while the later steps wait for messages).
 */
export function startPaho(port: number, steps: PahoStep[], timeoutMs = 30_000): { ready: Promise<void>; result: Promise<PahoRun> } {
  const child = spawn(PYTHON, [DRIVER, String(port), JSON.stringify(steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { signalReady = resolve; });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('{"ready": true}')) signalReady();
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const result = new Promise<PahoRun>((resolve, reject) => {
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      let events: PahoEvent[];
      try {
        events = JSON.parse(stdout.trim().split('\n').pop() ?? '').events;
      } catch {
        return reject(new Error(`paho_client.py printed no result (exit ${exitCode ?? signal}):\n${stdout}\n${stderr}`));
      }
      const failed = events.find((e) => e.event === 'error');
      if (failed) return reject(new Error(`paho: ${failed.message}; seen: ${JSON.stringify(events)}`));
      const of = <K extends PahoEvent['event']>(kind: K, client: string) =>
        events.filter((e): e is Extract<PahoEvent, { event: K }> => e.event === kind && 'client' in e && e.client === client);
      resolve({
        events,
        connacks: (client) => of('connack', client).map(({ rc, session_present }) => ({ rc, session_present })),
        subacks: (client) => of('suback', client).map((e) => e.codes),
        messages: (client) => of('message', client).map(({ topic, payload, qos, retain }) => ({ topic, payload, qos, retain })),
      });
    });
  });
  // A run that fails before its ready step must not leave the test waiting on `ready`.
  result.then(signalReady, signalReady);
  return { ready, result };
}
