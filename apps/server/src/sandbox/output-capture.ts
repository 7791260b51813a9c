/**
 * Keeps the head and the tail of one output stream within a byte budget, and optionally writes
 * the whole stream to a file with its sha256. Memory stays bounded (about the budget plus one
 * pipe chunk) however many megabytes the command prints.
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import type { CapturedOutput } from "./types.js";

export function truncationMarker(droppedBytes: number): string {
  return `\n… [${droppedBytes} bytes truncated] …\n`;
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** Shortens `length` so that `buffer[0, length)` does not end inside a UTF-8 character. */
function headBoundary(buffer: Buffer, length: number): number {
  let end = length;
  for (let steps = 0; steps < 3 && end > 0 && end < buffer.length && isContinuationByte(buffer[end]); steps += 1) end -= 1;
  return end;
}

/** Moves `start` forward so that `buffer[start, …)` does not begin inside a UTF-8 character. */
function tailBoundary(buffer: Buffer, start: number): number {
  let begin = start;
  for (let steps = 0; steps < 3 && begin < buffer.length && isContinuationByte(buffer[begin]); steps += 1) begin += 1;
  return begin;
}

export class OutputCapture {
  private readonly limit: number;
  private readonly head: Buffer;
  private headLength = 0;
  private readonly tailMax: number;
  private tail: Buffer[] = [];
  private tailLength = 0;
  private totalBytes = 0;
  private readonly file: { path: string; stream: fs.WriteStream; hash: Hash } | undefined;
  private fileError: string | undefined;

  constructor(limit: number, filePath?: string) {
    this.limit = limit;
    this.head = Buffer.alloc(Math.floor(limit / 2));
    this.tailMax = limit - this.head.length;
    if (filePath !== undefined) {
      fs.mkdirSync(path.dirname(filePath), { recursive: true });
      const stream = fs.createWriteStream(filePath, { flags: "w", mode: 0o600 });
      stream.on("error", (error) => {
        this.fileError = error.message;
      });
      this.file = { path: filePath, stream, hash: createHash("sha256") };
    }
  }

  /** Returns false when the file writer wants the source paused until its "drain". */
  write(chunk: Buffer): boolean {
    this.totalBytes += chunk.length;
    let rest = chunk;
    if (this.headLength < this.head.length) {
      const taken = rest.copy(this.head, this.headLength, 0, Math.min(rest.length, this.head.length - this.headLength));
      this.headLength += taken;
      rest = rest.subarray(taken);
    }
    if (rest.length > 0 && this.tailMax > 0) {
      this.tail.push(rest);
      this.tailLength += rest.length;
      while (this.tail.length > 1 && this.tailLength - (this.tail[0]?.length ?? 0) >= this.tailMax) {
        this.tailLength -= this.tail.shift()?.length ?? 0;
      }
    }
    if (this.file === undefined || this.fileError !== undefined) return true;
    this.file.hash.update(chunk);
    return this.file.stream.write(chunk);
  }

  /** Streams `source` into this capture, honouring the file writer's back-pressure. */
  follow(source: Readable): void {
    source.on("data", (chunk: Buffer) => {
      if (!this.write(chunk) && this.file !== undefined) {
        source.pause();
        this.file.stream.once("drain", () => source.resume());
      }
    });
    source.on("error", () => {
      // a destroyed pipe after the process ended: what arrived is kept
    });
  }

  private text(): { text: string; truncated: boolean } {
    const tailAll = Buffer.concat(this.tail, this.tailLength);
    if (this.totalBytes <= this.limit) {
      return { text: Buffer.concat([this.head.subarray(0, this.headLength), tailAll]).toString("utf8"), truncated: false };
    }
    const reserve = Buffer.byteLength(truncationMarker(this.totalBytes));
    if (reserve > this.limit) return { text: "", truncated: true };
    const room = this.limit - reserve;
    const headBytes = headBoundary(this.head, Math.min(this.headLength, Math.floor(room / 2)));
    const tailBytes = Math.min(tailAll.length, room - headBytes);
    const tailStart = tailBoundary(tailAll, tailAll.length - tailBytes);
    const dropped = this.totalBytes - headBytes - (tailAll.length - tailStart);
    const text = this.head.subarray(0, headBytes).toString("utf8") + truncationMarker(dropped) + tailAll.subarray(tailStart).toString("utf8");
    return { text, truncated: true };
  }

  /** Flushes the file (if any) and returns what was captured; `fileError` says why the file is missing. */
  async finish(): Promise<{ output: CapturedOutput; fileError?: string }> {
    const { text, truncated } = this.text();
    const output: CapturedOutput = { text, truncated, totalBytes: this.totalBytes };
    if (this.file === undefined) return { output };
    const { stream, hash } = this.file;
    await new Promise<void>((resolve) => {
      if (stream.destroyed) {
        resolve();
        return;
      }
      stream.once("error", () => resolve());
      stream.end(() => resolve());
    });
    if (this.fileError !== undefined) return { output, fileError: `could not write ${this.file.path}: ${this.fileError}` };
    return { output: { ...output, file: { path: this.file.path, sha256: hash.digest("hex") } } };
  }
}
