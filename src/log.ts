// A deliberately small logger: one line per event on stderr/stdout, level from JUNCTION_LOG.

type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

let threshold = ORDER[(process.env['JUNCTION_LOG'] as Level) ?? 'info'] ?? ORDER.info;

function emit(level: Exclude<Level, 'silent'>, message: string): void {
  if (ORDER[level] < threshold) return;
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`;
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line);
}

export const log = {
  debug: (m: string) => emit('debug', m),
  info: (m: string) => emit('info', m),
  warn: (m: string) => emit('warn', m),
  error: (m: string) => emit('error', m),
  /** Whether lines of `level` are written: a message costly to make (or to keep alive) is made only then. */
  writes(level: Exclude<Level, 'silent'>): boolean {
    return ORDER[level] >= threshold;
  },
  setLevel(level: Level): void {
    threshold = ORDER[level];
  },
};
