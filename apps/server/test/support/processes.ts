import { readdir, readFile } from "node:fs/promises";

/** Live processes whose command line or environment mentions `needle` (e.g. a test's kodo home). */
export async function processesMentioning(needle: string): Promise<Array<{ pid: number; cmd: string }>> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (stat.includes(") Z ")) continue; // zombies hold nothing
    if (cmd.includes(needle) || environ.includes(needle)) found.push({ pid, cmd: cmd.replaceAll("\0", " ").trim() });
  }
  return found;
}

/** Waits (bounded) until no process mentions `needle`; returns what is still there. */
export async function waitUntilGone(needle: string, timeoutMs: number): Promise<Array<{ pid: number; cmd: string }>> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const left = await processesMentioning(needle);
    if (left.length === 0 || performance.now() > end) return left;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
