/**
 * A minimal Server-Sent Events reader: feeds text chunks, hands out the `data` of each event.
 * OpenCode sends one JSON object per event in `data:` lines and no `id:` lines.
 */
export class SseParser {
  private buffer = "";
  private dataLines: string[] = [];

  /** Returns the data of every event completed by this chunk. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const events: string[] = [];
    for (;;) {
      const newline = this.buffer.indexOf("\n");
      if (newline < 0) break;
      let line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (this.dataLines.length > 0) events.push(this.dataLines.join("\n"));
        this.dataLines = [];
      } else if (line.startsWith("data:")) {
        const value = line.slice(5);
        this.dataLines.push(value.startsWith(" ") ? value.slice(1) : value);
      }
      // comments (":") and other fields (event, id, retry) are ignored
    }
    return events;
  }
}
