/**
 * A strict reader of the Prometheus text format for tests: every sample must belong to a family
 * declared by `# TYPE`, histogram buckets must be cumulative and end in `le="+Inf"` = `_count`.
 */

export interface ParsedExposition {
  types: Map<string, string>;
  help: Map<string, string>;
  /** key: `name{a="x",b="y"}` with labels sorted by name */
  samples: Map<string, number>;
  value(name: string, labels?: Record<string, string>): number | undefined;
}

function key(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.length === 0 ? name : `${name}{${pairs.map(([label, value]) => `${label}=${JSON.stringify(value)}`).join(",")}}`;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (match === null) throw new Error(`bad labels: ${text}`);
    const [whole, name = "", raw = ""] = match;
    labels[name] = raw.replace(/\\(.)/g, (_, character: string) => (character === "n" ? "\n" : character));
    rest = rest.slice(whole.length);
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw new Error(`bad value ${text}`);
  return value;
}

export function parseExposition(text: string): ParsedExposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples = new Map<string, number>();
  const histograms = new Map<string, Array<{ labels: Record<string, string>; le: number; value: number }>>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const [, name = "", ...words] = line.split(" ").slice(1);
      help.set(name, words.join(" "));
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name = "", type = ""] = line.slice(7).split(" ");
      if (types.has(name)) throw new Error(`${name} declared twice`);
      types.set(name, type);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`bad sample line: ${line}`);
    const [, name = "", rawLabels, rawValue = ""] = match;
    const labels = rawLabels === undefined ? {} : parseLabels(rawLabels);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    const type = types.get(family);
    if (type === undefined) throw new Error(`sample ${name} before its # TYPE`);
    if (family !== name && type !== "histogram") throw new Error(`${name}: suffix on a ${type}`);
    const value = parseValue(rawValue);
    const sampleKey = key(name, labels);
    if (samples.has(sampleKey)) throw new Error(`duplicate sample ${sampleKey}`);
    samples.set(sampleKey, value);
    if (name.endsWith("_bucket")) {
      const { le, ...rest } = labels;
      if (le === undefined) throw new Error(`${name} without le`);
      const series = key(family, rest);
      histograms.set(series, [...(histograms.get(series) ?? []), { labels: rest, le: parseValue(le), value }]);
    }
  }
  for (const [series, buckets] of histograms) {
    const last = buckets.at(-1);
    if (last?.le !== Infinity) throw new Error(`${series}: the last bucket is not +Inf`);
    for (let index = 1; index < buckets.length; index += 1) {
      const previous = buckets[index - 1];
      const current = buckets[index];
      if (previous === undefined || current === undefined) continue;
      if (!(current.le > previous.le) || current.value < previous.value) throw new Error(`${series}: buckets not increasing`);
    }
    const family = series.replace(/\{.*$/, "");
    if (samples.get(key(`${family}_count`, last.labels)) !== last.value) throw new Error(`${series}: +Inf bucket differs from _count`);
  }
  return { types, help, samples, value: (name, labels = {}) => samples.get(key(name, labels)) };
}
