/**
 * Server-Sent Events parsing as the HTML spec describes it (any chunking; LF, CRLF or CR; comments;
 * multi-line data; \`retry:\`), where only a complete frame moves the last event id. Pure and
 * dependency-free: the CLI's reconnecting reader and the Studio's fetch-based stream both use it.
 */
export interface SseFrame {
  /** this frame's own `id:` field; undefined when it had none */
  id: string | undefined;
  /** the stream's last event id once this frame was dispatched (what a reconnect sends) */
  lastEventId: string | undefined;
  /** `event:` field; "message" when absent */
  event: string;
  data: string;
}

/** Incremental SSE parser: feed it decoded text in any chunking, get whole frames back. */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #frameId: string | undefined;
  /** the spec's "last event ID buffer": becomes `lastEventId` only when its frame is complete */
  #idBuffer: string | undefined;
  /** the id of the last complete frame that had one (persists across frames, as the spec says) */
  lastEventId: string | undefined;
  /** the last valid `retry:` field, in milliseconds */
  retryMs: number | undefined;

  readonly #resumeFrom: ((frame: SseFrame) => string | undefined) | undefined;

  constructor(options: { lastEventId?: string | undefined; resumeFrom?: ((frame: SseFrame) => string | undefined) | undefined } = {}) {
    this.lastEventId = options.lastEventId;
    this.#idBuffer = options.lastEventId;
    this.#resumeFrom = options.resumeFrom;
  }

  push(text: string): SseFrame[] {
    const frames: SseFrame[] = [];
    const buffer = this.#buffer + text;
    let start = 0;
    for (let index = 0; index < buffer.length; index += 1) {
      const char = buffer[index];
      if (char !== "\n" && char !== "\r") continue;
      // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
      if (char === "\r" && index + 1 === buffer.length) break;
      const line = buffer.slice(start, index);
      if (char === "\r" && buffer[index + 1] === "\n") index += 1;
      start = index + 1;
      this.#line(line, frames);
    }
    this.#buffer = buffer.slice(start);
    return frames;
  }

  #line(line: string, frames: SseFrame[]): void {
    if (line === "") {
      this.#dispatch(frames);
      return;
    }
    if (line.startsWith(":")) return; // comment, e.g. ": heartbeat"
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\u0000")) {
          this.#idBuffer = value;
          this.#frameId = value;
        }
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(frames: SseFrame[]): void {
    const data = this.#data;
    const event = this.#event;
    const id = this.#frameId;
    this.#data = [];
    this.#event = "";
    this.#frameId = undefined;
    // Only a complete frame moves the position: a connection that dies mid-frame resumes before it.
    this.lastEventId = this.#idBuffer;
    if (data.length === 0) return;
    const frame: SseFrame = { id, lastEventId: this.lastEventId, event: event === "" ? "message" : event, data: data.join("\n") };
    const resumed = id === undefined ? this.#resumeFrom?.(frame) : undefined;
    if (resumed !== undefined) {
      this.lastEventId = resumed;
      this.#idBuffer = resumed;
      frame.lastEventId = resumed;
    }
    frames.push(frame);
  }
}
