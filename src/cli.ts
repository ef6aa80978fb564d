#!/usr/bin/env node
// junction start [--config FILE] | check --config FILE | init [DIR] | version

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { defaultConfig, loadConfigFile, ConfigError } from './config/load.js';
import { checkConfigFile } from './config/check.js';
import { formatIssue } from './config/check-values.js';
import { writeStarter } from './config/starter.js';
import { startNode } from './node.js';
import { log } from './log.js';

const USAGE = `usage:
  junction start [--config FILE]   run the router (embedded default without --config)
  junction check --config FILE     validate a config file; exit 1 on errors
  junction init [DIR]              write a commented starter config (junction.yaml)
  junction version                 print the version`;

function version(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function start(args: string[]): Promise<number> {
  const file = option(args, '--config');
  let config;
  try {
    config = file ? await loadConfigFile(file) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  for (const warning of config.warnings ?? []) log.warn(`config: ${formatIssue(warning)}`);
  const node = await startNode(config);
  const stop = (signal: string) => {
    log.info(`${signal}: closing sessions and listeners`);
    node.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1; // keep running
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
      return start(args);
    case 'check': {
      const file = option(args, '--config');
      if (!file) {
        process.stderr.write(`check needs --config FILE\n${USAGE}\n`);
        return 2;
      }
      const result = await checkConfigFile(file);
      for (const line of result.lines) (result.ok ? process.stdout : process.stderr).write(`${line}\n`);
      return result.ok ? 0 : 1;
    }
    case 'init': {
      const path = await writeStarter(args[0] ?? '.');
      process.stdout.write(`wrote ${path}\n`);
      return 0;
    }
    case 'version':
    case '--version':
      process.stdout.write(`junction ${version()}\n`);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (err: Error) => {
    process.stderr.write(`junction: ${err.message}\n`);
    process.exitCode = 1;
  },
);
