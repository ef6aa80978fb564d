// Waiting in a test for something asynchronous to have happened (a message in, a session gone, a
// log line written): poll a condition and fail, saying what was awaited, when it does not come.

/**
 * Resolves once `check` holds, polling every 10 ms; throws after `ms` naming `what` (or the check's
 * own source). Returns true, so a test may also write `expect(await until(...)).toBe(true)`.
 */
export async function until(check: () => boolean | Promise<boolean>, ms = 15_000, what?: string): Promise<true> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what ?? String(check)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
