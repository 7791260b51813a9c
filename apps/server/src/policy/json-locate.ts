/**
 * A JSON reader that remembers where every value and key starts, so a schema error can name
 * the exact line and column of the offending field. It accepts exactly RFC 8259 JSON (what
 * `JSON.parse` accepts) and reports a syntax error at the offset where it found it.
 */

export type JsonPath = readonly (string | number)[];

export interface JsonLocations {
  /** where the value at a path starts */
  value(path: JsonPath): number | undefined;
  /** where the key of an object member starts */
  key(path: JsonPath): number | undefined;
}

export type JsonReadResult = { kind: "ok"; value: unknown; locations: JsonLocations } | { kind: "syntax"; offset: number; message: string };

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const keyOf = (path: JsonPath): string => JSON.stringify(path);

class Reader {
  #at = 0;
  readonly values = new Map<string, number>();
  readonly keys = new Map<string, number>();

  constructor(private readonly text: string) {}

  read(): unknown {
    const value = this.#value([]);
    this.#space();
    if (this.#at < this.text.length) this.#fail(`unexpected ${this.#shown()} after the document`);
    return value;
  }

  #fail(message: string): never {
    throw new JsonSyntaxError(this.#at, message);
  }

  #shown(): string {
    const char = this.text[this.#at];
    return char === undefined ? "end of input" : JSON.stringify(char);
  }

  #space(): void {
    while (this.#at < this.text.length && " \t\n\r".includes(this.text[this.#at] ?? "")) this.#at += 1;
  }

  #expect(char: string): void {
    if (this.text[this.#at] !== char) this.#fail(`expected ${JSON.stringify(char)}, found ${this.#shown()}`);
    this.#at += 1;
  }

  #value(path: JsonPath): unknown {
    this.#space();
    this.values.set(keyOf(path), this.#at);
    const char = this.text[this.#at];
    if (char === "{") return this.#object(path);
    if (char === "[") return this.#array(path);
    if (char === '"') return this.#string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.#at, this.#at + 400));
    if (literal === null) this.#fail(`expected a value, found ${this.#shown()}`);
    this.#at += literal[0].length;
    return JSON.parse(literal[0]) as unknown;
  }

  #string(): string {
    const start = this.#at;
    this.#at += 1;
    for (;;) {
      const char = this.text[this.#at];
      if (char === undefined) this.#fail("unterminated string");
      if (char === '"') break;
      if (char < " ") this.#fail("a control character in a string must be escaped");
      if (char === "\\") {
        const escape = this.text[this.#at + 1] ?? "";
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.#at + 2, this.#at + 6))) this.#fail("bad \\u escape");
          this.#at += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escape) || escape === "") this.#fail(`bad escape \\${escape}`);
        this.#at += 2;
        continue;
      }
      this.#at += 1;
    }
    this.#at += 1;
    return JSON.parse(this.text.slice(start, this.#at)) as string;
  }

  #object(path: JsonPath): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.#at += 1;
    this.#space();
    if (this.text[this.#at] === "}") {
      this.#at += 1;
      return result;
    }
    for (;;) {
      this.#space();
      if (this.text[this.#at] !== '"') this.#fail(`expected a property name, found ${this.#shown()}`);
      const keyAt = this.#at;
      const name = this.#string();
      // Like JSON.parse, a repeated key overrides; its location is the last one.
      this.keys.set(keyOf([...path, name]), keyAt);
      this.#space();
      this.#expect(":");
      Object.defineProperty(result, name, { value: this.#value([...path, name]), enumerable: true, writable: true, configurable: true });
      this.#space();
      if (this.text[this.#at] === ",") {
        this.#at += 1;
        continue;
      }
      this.#expect("}");
      return result;
    }
  }

  #array(path: JsonPath): unknown[] {
    const result: unknown[] = [];
    this.#at += 1;
    this.#space();
    if (this.text[this.#at] === "]") {
      this.#at += 1;
      return result;
    }
    for (;;) {
      result.push(this.#value([...path, result.length]));
      this.#space();
      if (this.text[this.#at] === ",") {
        this.#at += 1;
        continue;
      }
      this.#expect("]");
      return result;
    }
  }
}

export function readJson(text: string): JsonReadResult {
  // A byte-order mark is not JSON; JSON.parse refuses it too, and so do we (at offset 0).
  const reader = new Reader(text);
  try {
    const value = reader.read();
    return {
      kind: "ok",
      value,
      locations: { value: (path) => reader.values.get(keyOf(path)), key: (path) => reader.keys.get(keyOf(path)) },
    };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { kind: "syntax", offset: error.offset, message: error.message };
    throw error;
  }
}

/** 1-based line and column (in UTF-16 code units) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index += 1) {
    if (text[index] === "\n") {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}
