// HTTP requests made with curl (a client nobody here wrote): status, headers and body of the answer.
import { spawn } from 'node:child_process';

export interface CurlAnswer {
  status: number;
  /** Header names in lower case; the last value of a repeated header. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface CurlOptions {
  method?: string;
  /** Sent as the request body (binary-safe, from stdin). */
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Seconds curl waits for the whole answer (--max-time). */
  maxTime?: number;
}

/** One request; rejects only when curl itself fails (connection refused, timeout). */
export function curl(url: string, opts: CurlOptions = {}): Promise<CurlAnswer> {
  const args = ['-s', '-S', '-i', '-X', opts.method ?? 'POST', '--max-time', String(opts.maxTime ?? 20)];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.body !== undefined) args.push('--data-binary', '@-');
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`curl ${args.join(' ')}: exit ${code}: ${err.trim()}`));
      resolve(parse(Buffer.concat(out)));
    });
    child.stdin.end(opts.body ?? '');
  });
}

/** `curl -i` output: status line, headers, a blank line, the body (a 100 Continue block first, at times). */
function parse(raw: Buffer): CurlAnswer {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    rest = rest.subarray(end + 4);
    const status = Number(head[0]!.split(' ')[1]);
    if (status === 100) continue;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, body: rest, text: rest.toString('utf8') };
  }
}
