#!/usr/bin/env node
// junction start [-c|--config] [FILE] | check [-c|--config] FILE | init [--first-boot] [DIR] | keygen | derive-key --salt S | simulate-device --port P | version

import { defaultConfig, loadConfigFile, ConfigError, releaseConfigParser } from './config/load.js';
import { checkConfigFile } from './config/check.js';
import { formatIssue } from './config/check-values.js';
import { writeStarter } from './config/starter.js';
import { ADMIN_TICKET_VARIABLE, firstBootConfig } from './config/first-boot.js';
import { startNode, type JunctionNode } from './node.js';
import { cryptosignKeyPair } from './auth/cryptosign.js';
import { craDeriveKey } from './auth/wampcra.js';
import { scramDeriveKeys } from './auth/scram.js';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { log } from './log.js';
import { SystemdNotifier } from './systemd.js';
import { AvahiServices } from './mdns/avahi-services.js';
import { junctionVersion } from './version.js';
import { parseCommandLine, configFile, UsageError, type CommandLine } from './cli-args.js';

const USAGE = `usage:
  junction start [[-c|--config] FILE]
                                   run the router with the config FILE (without one: the embedded
                                   default, anonymous may do everything, on 127.0.0.1:8080 only)
  junction check [-c|--config] FILE
                                   validate a config file; exit 1 on errors
  junction init [DIR]              write a commented starter config (junction.yaml)
  junction init --first-boot DIR   write the SD image's first-boot config, admitting only 'admin'
                                   with the ticket in $JUNCTION_ADMIN_TICKET (images/)
  junction keygen                  new Ed25519 key pair for cryptosign: private seed (for the
                                   device) and public key (for authorized_keys)
  junction derive-key --salt SALT [--iterations N] [--keylen N]
                                   salted WAMP-CRA: reads the password from stdin and prints the
                                   key to put in the user's "secret" (iterations 1000, keylen 32)
  junction derive-key --kdf argon2id-13|pbkdf2 [--salt HEX] [--iterations N] [--memory KIB]
                                   SCRAM: reads the password from stdin and prints the principal's
                                   kdf, salt, stored-key and server-key (Argon2id t 4096, m 512)
  junction simulate-device --port PATH [--id ID] [--baud N] [--publish-ms N] [--slow-ms N]
                                   act as a serial board (protocol v1) on PATH, e.g. one end of
                                   a socat pty pair: readings "a0", led.set/led.get (and "slow")
  junction version                 print the version`;

/** A string option's value (parseArgs has checked the command's options). */
function option(line: CommandLine, name: string): string | undefined {
  return line.values[name] as string | undefined;
}

async function start(line: CommandLine): Promise<number> {
  const file = configFile(line);
  if (!file) {
    log.warn('no config file given: running the embedded default config, in which ANONYMOUS clients may do EVERYTHING ' +
      '(call, register, publish, subscribe on realm1) from this machine (127.0.0.1:8080); for trying Junction out only: ' +
      'give your config as `junction start --config FILE`');
  }
  let config;
  try {
    config = file ? await loadConfigFile(file) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG (sysexits.h): the systemd unit does not restart on it (RestartPreventExitStatus)
    }
    throw err;
  }
  for (const warning of config.warnings ?? []) log.warn(`config: ${formatIssue(warning)}`);
  releaseConfigParser();
  // SIGHUP's default action ends the process: handle it before anything can say "ready", so a
  // reload sent the moment the log says so is never fatal (one that comes while starting is ignored).
  let node: JunctionNode | undefined;
  const systemd = new SystemdNotifier();
  const avahi = AvahiServices.fromEnvironment();
  const announce = () => avahi?.write(node!.listeners.map((l) => ({ config: l.config, port: boundPort(l.address()) })), node!.config);
  process.on('SIGHUP', () => {
    if (!node) log.info('SIGHUP: still starting; nothing to reload yet');
    else if (file) {
      systemd.reloading();
      void reload(node, file).finally(() => {
        announce();
        systemd.ready('config reloaded');
      });
    }
    else log.info('SIGHUP: running the embedded default config; nothing to reload');
  });
  node = await startNode(config);
  announce();
  systemd.ready(`serving realms ${node.router.realmNames.join(', ')}`);
  const stop = (signal: string) => {
    const told = systemd.stopping();
    avahi?.remove();
    log.info(`${signal}: closing sessions and listeners`);
    node.stop().then(
      () => told.then(() => process.exit(0)),
      () => told.then(() => process.exit(1)),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1; // keep running
}

function boundPort(address: AddressInfo | string | null): number | undefined {
  return address !== null && typeof address === 'object' ? address.port : undefined;
}

async function deriveKey(line: CommandLine): Promise<number> {
  if (option(line, 'kdf') !== undefined) return deriveScramPrincipal(line);
  const salt = option(line, 'salt');
  const iterations = Number(option(line, 'iterations') ?? 1000);
  const keylen = Number(option(line, 'keylen') ?? 32);
  if (!salt || !Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(keylen) || keylen < 1 || keylen > 1024) {
    process.stderr.write(`derive-key needs --salt SALT, and integer --iterations (>= 1) and --keylen (1..1024) if given\n${USAGE}\n`);
    return 2;
  }
  const password = await readPassword();
  if (password === undefined) return 2;
  process.stdout.write(`${craDeriveKey(password, salt, iterations, keylen)}\n`);
  return 0;
}

/** The password on stdin, so it never shows in the process list or the shell history. */
async function readPassword(): Promise<string | undefined> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const password = input.replace(/\r?\n$/, '');
  if (password === '') process.stderr.write('derive-key: no password on stdin\n');
  return password === '' ? undefined : password;
}

/** derive-key --kdf: a SCRAM principal's keys (Crossbar's shape, JSON), Autobahn's defaults: Argon2id, t 4096, m 512 KiB. */
async function deriveScramPrincipal(line: CommandLine): Promise<number> {
  const kdf = option(line, 'kdf');
  const iterations = Number(option(line, 'iterations') ?? (kdf === 'pbkdf2' ? 100_000 : 4096));
  const memory = Number(option(line, 'memory') ?? 512);
  const saltHex = option(line, 'salt') ?? randomBytes(16).toString('hex');
  if ((kdf !== 'argon2id-13' && kdf !== 'pbkdf2') || !Number.isInteger(iterations) || iterations < 1 ||
      !Number.isInteger(memory) || memory < 8 || !/^(?:[0-9a-fA-F]{2})+$/.test(saltHex)) {
    process.stderr.write(`derive-key --kdf needs argon2id-13 or pbkdf2, integer --iterations (>= 1), --memory (KiB, >= 8) and a hex --salt if given\n${USAGE}\n`);
    return 2;
  }
  const password = await readPassword();
  if (password === undefined) return 2;
  const salt = Buffer.from(saltHex, 'hex');
  const { storedKey, serverKey } = scramDeriveKeys(password, kdf, salt, iterations, memory);
  const principal = { kdf, iterations, ...(kdf === 'argon2id-13' ? { memory } : {}), salt: salt.toString('hex'), 'stored-key': storedKey.toString('hex'), 'server-key': serverKey.toString('hex') };
  process.stdout.write(`${JSON.stringify(principal, null, 2)}\n`);
  return 0;
}

/** A serial board without hardware on a port (src/bridges/serial/simulator.ts); runs until SIGTERM/SIGINT. */
async function simulateDevice(line: CommandLine): Promise<number> {
  const port = option(line, 'port');
  const numberOption = (name: string, fallback: number | undefined): number | undefined | null => {
    const text = option(line, name);
    if (text === undefined) return fallback;
    const n = Number(text);
    return Number.isInteger(n) && n >= 0 ? n : null;
  };
  const baudRate = numberOption('baud', 115200);
  const publishMs = numberOption('publish-ms', 1000);
  const slowMs = numberOption('slow-ms', undefined);
  if (!port || baudRate === null || publishMs === null || slowMs === null) {
    process.stderr.write(`simulate-device needs --port PATH; --baud, --publish-ms, --slow-ms take whole numbers\n${USAGE}\n`);
    return 2;
  }
  const { DeviceSimulator } = await import('./bridges/serial/simulator.js');
  const device = await DeviceSimulator.open(port, { id: option(line, 'id') ?? 'sim-1', baudRate, publishMs: publishMs ?? 1000, slowMs });
  log.info(`simulating serial device ${device.id} on ${port} (procedures ${device.procedures.join(', ')})`);
  device.on('call', (procedure: string, argument: unknown) => log.info(`call ${procedure}(${JSON.stringify(argument ?? null)})`));
  device.on('error', (err: Error) => log.error(`${port}: ${err.message}`));
  device.once('close', () => {
    log.info(`${port} closed`);
    process.exit(0);
  });
  const stop = () => void device.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1; // keep running
}

/** SIGHUP: read the config file again and apply what can change without a restart. */
async function reload(node: JunctionNode, file: string): Promise<void> {
  let next;
  try {
    next = await loadConfigFile(file);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.message : (err as Error).message;
    log.error(`SIGHUP: ${file} not reloaded, the running config stays:\n${detail}`);
    return;
  } finally {
    releaseConfigParser();
  }
  for (const warning of next.warnings ?? []) log.warn(`SIGHUP: config: ${formatIssue(warning)}`);
  let report;
  try {
    report = await node.reload(next);
  } catch (err) {
    log.error(`SIGHUP: ${file} only partly applied: ${(err as Error).message}`);
    return;
  }
  const { applied, needsRestart, failed } = report;
  for (const line of applied) log.info(`SIGHUP: applied: ${line}`);
  for (const line of needsRestart) log.warn(`SIGHUP: not applied, needs a restart: ${line}`);
  for (const line of failed) log.error(`SIGHUP: failed: ${line}`);
  if (applied.length === 0 && needsRestart.length === 0) log.info(`SIGHUP: ${file} reloaded, nothing changed`);
  else log.info(`SIGHUP: ${file} reloaded: ${applied.length} change(s) applied, ${needsRestart.length} need a restart${failed.length > 0 ? `, ${failed.length} failed` : ''}`);
}

async function main(argv: string[]): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
    if (line.command === 'help' || line.values['help']) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await run(line);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`junction: ${err.message}\n${USAGE}\n`);
    return 2;
  }
}

async function run(line: CommandLine): Promise<number> {
  const args = line.positionals;
  switch (line.command) {
    case 'start':
      return start(line);
    case 'check': {
      const file = configFile(line);
      if (!file) throw new UsageError('check needs a config file: junction check FILE');
      const result = await checkConfigFile(file);
      for (const line of result.lines) (result.ok ? process.stdout : process.stderr).write(`${line}\n`);
      return result.ok ? 0 : 1;
    }
    case 'init': {
      const path = await writeStarter(args[0] ?? '.', line.values['first-boot'] ? firstBootText() : undefined);
      process.stdout.write(`wrote ${path}\n`);
      return 0;
    }
    case 'keygen': {
      const { privateSeed, publicKey } = cryptosignKeyPair();
      process.stdout.write(`private seed (keep it on the device): ${privateSeed}\npublic key (authorized_keys): ${publicKey}\n`);
      return 0;
    }
    case 'derive-key':
      return deriveKey(line);
    case 'simulate-device':
      return simulateDevice(line);
    case 'version':
      process.stdout.write(`junction ${junctionVersion()}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command '${line.command}'`);
  }
}

/** `init --first-boot`: the config with the admin's ticket, which the script passes in the environment. */
function firstBootText(): string {
  const ticket = process.env[ADMIN_TICKET_VARIABLE];
  if (!ticket || !/^[A-Za-z0-9_-]{16,}$/.test(ticket)) {
    throw new Error(`init --first-boot: ${ADMIN_TICKET_VARIABLE} must hold the admin's ticket (at least 16 of A-Z, a-z, 0-9, '_', '-')`);
  }
  return firstBootConfig(ticket, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (err: Error) => {
    process.stderr.write(`junction: ${err.message}\n`);
    process.exitCode = 1;
  },
);
