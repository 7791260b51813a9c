/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: `# HELP`, `# TYPE`, then
 * one `name{label="value"} number` line per sample; histograms as cumulative `_bucket{le=…}`
 * series ending in `le="+Inf"`, plus `_sum` and `_count`.
 */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSeries {
  labels: Labels;
  /** cumulative counts: observations ≤ each bound of the family, in the same order */
  buckets: readonly number[];
  count: number;
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: "gauge" | "counter"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; bounds: readonly number[]; series: readonly HistogramSeries[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push([extra[0], extra[1]]);
  if (pairs.length === 0) return "";
  for (const [name] of pairs) if (!LABEL_NAME.test(name)) throw new Error(`invalid label name ${JSON.stringify(name)}`);
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`invalid metric name ${JSON.stringify(family.name)}`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type !== "histogram") {
      for (const sample of family.samples) lines.push(`${family.name}${labelText(sample.labels)} ${formatNumber(sample.value)}`);
      continue;
    }
    for (const series of family.series) {
      family.bounds.forEach((bound, index) => {
        lines.push(`${family.name}_bucket${labelText(series.labels, ["le", formatNumber(bound)])} ${formatNumber(series.buckets[index] ?? 0)}`);
      });
      lines.push(`${family.name}_bucket${labelText(series.labels, ["le", "+Inf"])} ${formatNumber(series.count)}`);
      lines.push(`${family.name}_sum${labelText(series.labels)} ${formatNumber(series.sum)}`);
      lines.push(`${family.name}_count${labelText(series.labels)} ${formatNumber(series.count)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
