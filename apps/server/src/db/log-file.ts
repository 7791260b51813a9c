import { appendFileSync, mkdirSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";

/**
 * The embedded Postgres log (initdb output, the server's own stderr, kodo's lifecycle notes).
 * Nothing of it goes to the terminal. Writing to it never throws: a log is not worth a crash.
 */
export class LogFile {
  readonly path: string;

  constructor(file: string) {
    this.path = path.resolve(file);
    mkdirSync(path.dirname(this.path), { recursive: true });
  }

  /** Appends raw text as it came (initdb and postgres write whole lines). */
  write(text: string): void {
    try {
      appendFileSync(this.path, text);
    } catch {
      // the log is best effort
    }
  }

  /** A line from kodo itself, marked so it stands out among the server's lines. */
  note(message: string): void {
    this.write(`${new Date().toISOString()} [kodo] ${message}\n`);
  }

  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /** The last `maxLines` lines written since byte `from` (to quote in an error message). */
  async tail(from: number, maxLines = 12): Promise<string> {
    try {
      const handle = await open(this.path, "r");
      try {
        const length = Math.max(0, Math.min((await handle.stat()).size - from, 64 * 1024));
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, Math.max(from, (await handle.stat()).size - length));
        return buffer.toString("utf8").trimEnd().split("\n").slice(-maxLines).join("\n");
      } finally {
        await handle.close();
      }
    } catch {
      return "";
    }
  }
}
