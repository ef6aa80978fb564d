// The command line: a command, then its options (node's util.parseArgs, strict). Anything not
// understood is a usage error naming it — never silently ignored, since a misspelt `--config`
// would otherwise start the embedded default config, which lets anyone on loopback do anything.

import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

interface CommandSpec {
  options: Options;
  /** How many positional arguments the command takes at most. */
  positionals: number;
}

const CONFIG: Options = { config: { type: 'string', short: 'c' } };

const COMMANDS: Record<string, CommandSpec> = {
  start: { options: CONFIG, positionals: 1 },
  check: { options: CONFIG, positionals: 1 },
  init: { options: { 'first-boot': { type: 'boolean' } }, positionals: 1 },
  keygen: { options: {}, positionals: 0 },
  'derive-key': { options: { salt: { type: 'string' }, iterations: { type: 'string' }, keylen: { type: 'string' }, kdf: { type: 'string' }, memory: { type: 'string' } }, positionals: 0 },
  'simulate-device': {
    options: { port: { type: 'string' }, id: { type: 'string' }, baud: { type: 'string' }, 'publish-ms': { type: 'string' }, 'slow-ms': { type: 'string' } },
    positionals: 0,
  },
  version: { options: {}, positionals: 0 },
  help: { options: {}, positionals: 0 },
};

const ALIASES: Record<string, string> = { '--version': 'version', '--help': 'help', '-h': 'help' };

/** The command line is wrong: the message says what (the CLI prints it with the usage, exit 2). */
export class UsageError extends Error {}

export interface CommandLine {
  command: string;
  /** Option values by long name; `help` is true for `COMMAND --help`. */
  values: { [name: string]: string | boolean | undefined };
  positionals: string[];
}

export function parseCommandLine(argv: string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('no command given');
  const command = ALIASES[first] ?? first;
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(first.startsWith('-') ? `unknown option '${first}' (the command comes first)` : `unknown command '${first}'`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${describeParseError(err as Error & { code?: string })}`);
  }
  if (parsed.positionals.length > spec.positionals) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[spec.positionals]}'`);
  }
  return { command, values: parsed.values, positionals: parsed.positionals };
}

/** `start` and `check`: the config file, from `--config FILE`, `-c FILE` or the one positional argument. */
export function configFile(line: CommandLine): string | undefined {
  const option = line.values['config'] as string | undefined;
  const positional = line.positionals[0];
  if (option !== undefined && positional !== undefined) {
    throw new UsageError(`${line.command}: the config file is given twice ('${option}' and '${positional}')`);
  }
  return option ?? positional;
}

/** parseArgs' messages are long-winded; ours name the option and what is wrong with it. */
function describeParseError(err: Error & { code?: string }): string {
  const name = /'(-[^' ,]+)/.exec(err.message)?.[1] ?? '';
  const longName = /--[\w-]+/.exec(err.message)?.[0] ?? name;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option '${name}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(err.message) ? `option '${longName}' takes no value` : `option '${longName}' needs a value`;
    default: return err.message;
  }
}
