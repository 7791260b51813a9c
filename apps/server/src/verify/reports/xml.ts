/**
 * A small, strict XML reader for test reports (JUnit XML). It reads elements, attributes, text,
 * CDATA, comments and processing instructions; it refuses DOCTYPE (no entity expansion, no external
 * anything) and malformed input. No regular expressions: one left-to-right scan over the string.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** the element's own text (text and CDATA directly inside it, concatenated in order) */
  text: string;
}

export class XmlError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.name = "XmlError";
    this.position = position;
  }
}

const MAX_DEPTH = 256;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\n" || ch === "\t" || ch === "\r";
}

function isNameBreak(ch: string | undefined): boolean {
  return ch === undefined || isSpace(ch) || ch === "/" || ch === ">" || ch === "=" || ch === "<" || ch === '"' || ch === "'";
}

/** Replaces the five named entities and numeric character references; unknown ones stay literal. */
export function decodeEntities(raw: string): string {
  if (!raw.includes("&")) return raw;
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const amp = raw.indexOf("&", i);
    if (amp === -1) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, amp);
    const semi = raw.indexOf(";", amp + 1);
    if (semi === -1 || semi - amp > 12) {
      out += "&";
      i = amp + 1;
      continue;
    }
    const body = raw.slice(amp + 1, semi);
    const decoded = decodeReference(body);
    if (decoded === undefined) {
      out += "&";
      i = amp + 1;
    } else {
      out += decoded;
      i = semi + 1;
    }
  }
  return out;
}

function decodeReference(body: string): string | undefined {
  const named = NAMED_ENTITIES[body];
  if (named !== undefined) return named;
  if (!body.startsWith("#") || body.length < 2) return undefined;
  const hex = body[1] === "x" || body[1] === "X";
  const digits = hex ? body.slice(2) : body.slice(1);
  if (digits.length === 0) return undefined;
  for (const ch of digits) {
    const ok = hex ? "0123456789abcdefABCDEF".includes(ch) : "0123456789".includes(ch);
    if (!ok) return undefined;
  }
  const code = Number.parseInt(digits, hex ? 16 : 10);
  if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\uFFFD";
  return String.fromCodePoint(code);
}

/** Attribute values: literal tabs and line breaks become spaces (XML's normalization), then decode. */
function decodeAttribute(raw: string): string {
  let normalized = "";
  for (const ch of raw) normalized += ch === "\n" || ch === "\t" || ch === "\r" ? " " : ch;
  return decodeEntities(normalized);
}

class Scanner {
  private index = 0;
  constructor(private readonly src: string) {
    if (src.charCodeAt(0) === 0xfeff) this.index = 1;
  }

  parseDocument(): XmlElement {
    this.skipMisc();
    if (this.src[this.index] !== "<") throw new XmlError("expected the root element", this.index);
    const root = this.parseElement(1);
    this.skipMisc();
    if (this.index < this.src.length) throw new XmlError("content after the root element", this.index);
    return root;
  }

  /** Whitespace, comments and processing instructions (allowed before and after the root). */
  private skipMisc(): void {
    for (;;) {
      while (isSpace(this.src[this.index])) this.index += 1;
      if (this.src.startsWith("<?", this.index)) this.skipPast("?>", "processing instruction");
      else if (this.src.startsWith("<!--", this.index)) this.skipPast("-->", "comment");
      else if (this.src.startsWith("<!DOCTYPE", this.index) || this.src.startsWith("<!doctype", this.index)) {
        throw new XmlError("DOCTYPE is not accepted in a test report", this.index);
      } else return;
    }
  }

  private skipPast(terminator: string, what: string): string {
    const end = this.src.indexOf(terminator, this.index);
    if (end === -1) throw new XmlError(`unterminated ${what}`, this.index);
    const inner = this.src.slice(this.index, end);
    this.index = end + terminator.length;
    return inner;
  }

  private readName(): string {
    const start = this.index;
    while (!isNameBreak(this.src[this.index])) this.index += 1;
    if (this.index === start) throw new XmlError("expected a name", start);
    return this.src.slice(start, this.index);
  }

  private parseElement(depth: number): XmlElement {
    if (depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`, this.index);
    this.index += 1; // "<"
    // a null-prototype record: an attribute named "__proto__" is just an attribute
    const attributes = Object.create(null) as Record<string, string>;
    const element: XmlElement = { name: this.readName(), attributes, children: [], text: "" };
    if (this.parseAttributes(element)) return element;
    for (;;) {
      const lt = this.src.indexOf("<", this.index);
      if (lt === -1) throw new XmlError(`element <${element.name}> is not closed`, this.index);
      if (lt > this.index) element.text += decodeEntities(this.src.slice(this.index, lt));
      this.index = lt;
      if (this.src.startsWith("</", lt)) {
        this.index += 2;
        const name = this.readName();
        if (name !== element.name) throw new XmlError(`</${name}> closes <${element.name}>`, lt);
        while (isSpace(this.src[this.index])) this.index += 1;
        if (this.src[this.index] !== ">") throw new XmlError("expected '>'", this.index);
        this.index += 1;
        return element;
      }
      if (this.src.startsWith("<!--", lt)) this.skipPast("-->", "comment");
      else if (this.src.startsWith("<![CDATA[", lt)) {
        this.index += "<![CDATA[".length;
        element.text += this.skipPast("]]>", "CDATA section");
      } else if (this.src.startsWith("<?", lt)) this.skipPast("?>", "processing instruction");
      else if (this.src.startsWith("<!", lt)) throw new XmlError("declarations are not accepted here", lt);
      else element.children.push(this.parseElement(depth + 1));
    }
  }

  /** Reads attributes up to the end of the start tag; true when the element was self-closing. */
  private parseAttributes(element: XmlElement): boolean {
    for (;;) {
      const before = this.index;
      while (isSpace(this.src[this.index])) this.index += 1;
      const ch = this.src[this.index];
      if (ch === undefined) throw new XmlError(`start tag <${element.name}> is not closed`, this.index);
      if (ch === ">") {
        this.index += 1;
        return false;
      }
      if (ch === "/") {
        if (this.src[this.index + 1] !== ">") throw new XmlError("expected '/>'", this.index);
        this.index += 2;
        return true;
      }
      if (this.index === before) throw new XmlError("expected whitespace before an attribute", this.index);
      const name = this.readName();
      while (isSpace(this.src[this.index])) this.index += 1;
      if (this.src[this.index] !== "=") throw new XmlError(`attribute ${name} has no value`, this.index);
      this.index += 1;
      while (isSpace(this.src[this.index])) this.index += 1;
      const quote = this.src[this.index];
      if (quote !== '"' && quote !== "'") throw new XmlError(`attribute ${name} is not quoted`, this.index);
      const end = this.src.indexOf(quote, this.index + 1);
      if (end === -1) throw new XmlError(`attribute ${name} is not terminated`, this.index);
      const raw = this.src.slice(this.index + 1, end);
      if (raw.includes("<")) throw new XmlError(`attribute ${name} contains '<'`, this.index);
      if (Object.hasOwn(element.attributes, name)) throw new XmlError(`attribute ${name} repeated`, this.index);
      element.attributes[name] = decodeAttribute(raw);
      this.index = end + 1;
    }
  }
}

/** Parses a whole document and returns its root element; throws XmlError on anything malformed. */
export function parseXml(source: string): XmlElement {
  return new Scanner(source).parseDocument();
}

/** Every descendant element (depth first, document order) with the given name. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const stack: XmlElement[] = [root];
  while (stack.length > 0) {
    const element = stack.pop();
    if (element === undefined) break;
    if (element.name === name) found.push(element);
    for (let i = element.children.length - 1; i >= 0; i -= 1) {
      const child = element.children[i];
      if (child !== undefined) stack.push(child);
    }
  }
  return found;
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}
