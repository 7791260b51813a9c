/**
 * Reading a policy file (JSON, or YAML for .yaml/.yml) into a validated `Policy`. Every problem
 * is a KodoError POLICY_INVALID whose message starts `<file>:<line>:<col>: <field>: `, the line
 * and column of the offending field (or of the nearest enclosing one, for a missing field).
 */
import { readFile } from "node:fs/promises";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from "yaml";
import type { z } from "zod";
import { KodoError } from "../lib/errors.js";
import { lineColumn, readJson, type JsonPath } from "./json-locate.js";
import { PolicySchema, type Policy } from "./schema.js";

export type PolicyFormat = "json" | "yaml";

export interface PolicyProblem {
  line: number;
  col: number;
  /** `rules[2].effect`, or `(root)` */
  field: string;
  message: string;
}

/** Where the value (or, with `key`, the member name) at a path starts; undefined if it is absent. */
interface Locator {
  offset(path: JsonPath, key: boolean): number | undefined;
  position(offset: number): { line: number; col: number };
}

export function formatField(path: JsonPath): string {
  if (path.length === 0) return "(root)";
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      if (/^[A-Za-z_$][\w$]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join("");
}

function yamlLocator(contents: YamlNode | null, lineCounter: LineCounter): Locator {
  function find(path: JsonPath, key: boolean): number | undefined {
    let node: unknown = contents;
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) return undefined;
        if (last && key) return isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment];
      } else {
        return undefined;
      }
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range?.[0];
  }
  return {
    offset: find,
    position: (offset) => {
      const position = lineCounter.linePos(offset);
      return position.line === 0 ? { line: 1, col: offset + 1 } : position;
    },
  };
}

function problemAt(locator: Locator, path: JsonPath, key: boolean, message: string): PolicyProblem {
  // A missing field has no node: point at the nearest enclosing one that exists.
  for (let length = path.length; length >= 0; length -= 1) {
    const offset = locator.offset(path.slice(0, length), key && length === path.length);
    if (offset !== undefined) return { ...locator.position(offset), field: formatField(path), message };
  }
  return { line: 1, col: 1, field: formatField(path), message };
}

function issueProblems(issues: readonly z.core.$ZodIssue[], locator: Locator): PolicyProblem[] {
  return issues.flatMap((issue) => {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== "symbol");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((name) => problemAt(locator, [...path, name], true, `unknown field ${JSON.stringify(name)}`));
    }
    return [problemAt(locator, path, false, issue.message)];
  });
}

/** `<file>:<line>:<col>: <field>: <message>` of the first problem, and how many more there are. */
export function describeProblems(file: string, problems: readonly PolicyProblem[], what: string): string {
  const [first] = problems;
  const head = first === undefined ? `${file}: invalid ${what}` : `${file}:${first.line}:${first.col}: ${first.field}: ${first.message}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  return `${head}${more}`;
}

function invalid(file: string, problems: readonly PolicyProblem[]): KodoError {
  return new KodoError("POLICY_INVALID", describeProblems(file, problems, "policy"), { details: { file, problems: problems.map((problem) => ({ ...problem })) } });
}

export type LocatedParse<T> = { ok: true; value: T } | { ok: false; problems: PolicyProblem[] };

function validate<T>(schema: z.ZodType<T>, value: unknown, locator: Locator): LocatedParse<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: issueProblems(parsed.error.issues, locator) };
}

function parseJsonLocated<T>(text: string, schema: z.ZodType<T>): LocatedParse<T> {
  const read = readJson(text);
  if (read.kind === "syntax") {
    return { ok: false, problems: [{ ...lineColumn(text, read.offset), field: "(syntax)", message: `not valid JSON: ${read.message}` }] };
  }
  const locator: Locator = {
    offset: (path, key) => (key ? read.locations.key(path) : read.locations.value(path)),
    position: (offset) => lineColumn(text, offset),
  };
  return validate(schema, read.value, locator);
}

function parseYamlLocated<T>(text: string, schema: z.ZodType<T>): LocatedParse<T> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [error] = document.errors;
  if (error !== undefined) {
    const position = lineCounter.linePos(error.pos[0]);
    const line = position.line === 0 ? 1 : position.line;
    const message = error.message.split("\n")[0] ?? error.message;
    return { ok: false, problems: [{ line, col: position.line === 0 ? error.pos[0] + 1 : position.col, field: "(syntax)", message: `not valid YAML: ${message}` }] };
  }
  return validate(schema, document.toJS({ maxAliasCount: 100 }), yamlLocator(document.contents, lineCounter));
}

/**
 * JSON or YAML text validated with any zod schema; each problem carries the line and column of
 * the offending field (policies here, and e.g. `kodo ci run` task files).
 */
export function parseLocated<T>(text: string, format: PolicyFormat, schema: z.ZodType<T>): LocatedParse<T> {
  return format === "json" ? parseJsonLocated(text, schema) : parseYamlLocated(text, schema);
}

export function formatOf(file: string): PolicyFormat | undefined {
  if (/\.json$/i.test(file)) return "json";
  if (/\.ya?ml$/i.test(file)) return "yaml";
  return undefined;
}

/** Parses and validates policy text; `file` is only used in messages. */
export function parsePolicy(text: string, options: { file: string; format: PolicyFormat }): Policy {
  const parsed = parseLocated(text, options.format, PolicySchema);
  if (!parsed.ok) throw invalid(options.file, parsed.problems);
  return parsed.value;
}

/** Reads a policy file: JSON for `.json`, YAML for `.yaml`/`.yml`. */
export async function loadPolicy(file: string): Promise<Policy> {
  const format = formatOf(file);
  if (format === undefined) throw new KodoError("POLICY_INVALID", `${file}: a policy file must end in .json, .yaml or .yml`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    throw new KodoError("POLICY_INVALID", `${file}: cannot read the policy file (${code})`, { cause: error });
  }
  return parsePolicy(text, { file, format });
}
