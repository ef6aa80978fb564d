// A two-node RabbitMQ cluster with the MQTT plugin, on this machine, for the bridge's failover test:
// Debian's rabbitmq-server run directly (/usr/lib/rabbitmq/bin, as the current user), each node with
// its own node name, ports, config, plugin list, mnesia and log dirs under a temp dir, one shared
// Erlang cookie (HOME is the temp dir), the second joined to the first with rabbitmqctl join_cluster.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const BIN = '/usr/lib/rabbitmq/bin';

export interface RabbitNode {
  name: string;
  mqttPort: number;
  url: string;
  child?: ChildProcess;
  env: NodeJS.ProcessEnv;
}

export class RabbitCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'junction-rabbitmq-'));
  readonly nodes: RabbitNode[] = [];

  /** Starts both nodes and joins the second to the first. */
  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'home'));
    writeFileSync(join(this.dir, 'home', '.erlang.cookie'), `JUNCTIONTEST${process.pid}`, { mode: 0o400 });
    for (let n = 1; n <= 2; n++) {
      const mqttPort = await freePort();
      const dir = join(this.dir, `node${n}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'rabbitmq.conf'), [
        `listeners.tcp.default = ${await freePort()}`,
        `mqtt.listeners.tcp.default = ${mqttPort}`,
        'loopback_users = none',
        '',
      ].join('\n'));
      writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
      const name = `junction${n}-${mqttPort}@localhost`;
      const env = {
        ...process.env, HOME: join(this.dir, 'home'), RABBITMQ_NODENAME: name, RABBITMQ_DIST_PORT: String(await freePort()),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'), RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'), RABBITMQ_LOG_BASE: join(dir, 'log'), RABBITMQ_PID_FILE: join(dir, 'pid'),
      };
      this.nodes.push({ name, mqttPort, url: `mqtt://127.0.0.1:${mqttPort}`, env });
    }
    for (const node of this.nodes) {
      // Its own process group, so that kill() takes the Erlang VM with the script that started it.
      node.child = spawn(join(BIN, 'rabbitmq-server'), [], { env: node.env, stdio: 'ignore', detached: true });
    }
    for (const node of this.nodes) await waitForPort(node.mqttPort, 120_000, node.name);
    const [first, second] = this.nodes as [RabbitNode, RabbitNode];
    for (const args of [['stop_app'], ['reset'], ['join_cluster', first.name], ['start_app']]) await this.ctl(second, args);
    await waitForPort(second.mqttPort, 120_000, second.name);
  }

  /** rabbitmqctl against `node`. */
  ctl(node: RabbitNode, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(join(BIN, 'rabbitmqctl'), ['-n', node.name, ...args], { env: node.env, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${err.message} ${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /** SIGKILL to the node's whole process group: the VM dies at once, connections cut. */
  kill(index: number): void {
    const child = this.nodes[index]?.child;
    if (child?.pid !== undefined && child.exitCode === null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  stop(): void {
    this.nodes.forEach((_n, i) => this.kill(i));
  }
}

async function waitForPort(port: number, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
