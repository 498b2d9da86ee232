// Shared by the client tests: wait for something another part of the server
// does on its own time (an e-mail sent after the answer), polling with a
// generous deadline instead of sleeping.
export async function until<T>(what: string, probe: () => T | undefined, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
