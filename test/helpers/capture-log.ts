// The router's log output, captured in a test instead of printed: counted by level, some lines kept.

/**
 * The router's log lines (src/log.ts: warn and error on stderr, info and debug on stdout), counted
 * and kept out of the test output: a fuzz run makes tens of thousands of protocol-violation
 * warnings. ERROR lines and lines matching `keep` are kept (the first 2000).
 */
export function captureStderr(keep: RegExp = /$^/): { lines: string[]; counts: Map<string, number>; restore(): void } {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  const restores = [process.stderr, process.stdout].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const level = /^\S+Z (DEBUG|INFO|WARN|ERROR) /.exec(text)?.[1];
      if (level) {
        counts.set(level, (counts.get(level) ?? 0) + 1);
        if ((level === 'ERROR' || keep.test(text)) && lines.length < 2000) lines.push(text.trimEnd());
        return true;
      }
      return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    return () => { stream.write = original; };
  });
  return { lines, counts, restore: () => restores.forEach((r) => r()) };
}
