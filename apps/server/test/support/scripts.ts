import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEMO_SCRIPT_PATH = fileURLToPath(new URL("../../assets/model-scripts/demo.json", import.meta.url));

interface Rule {
  name: string;
  when: Record<string, unknown>;
  reply: Record<string, unknown>;
}

/** The demo script with some rules' replies changed (e.g. a build that hangs or answers slowly). */
export function demoScriptWith(changes: Record<string, Record<string, unknown>>): { version: number; rules: Rule[] } {
  const script = JSON.parse(readFileSync(DEMO_SCRIPT_PATH, "utf8")) as { version: number; rules: Rule[] };
  for (const rule of script.rules) {
    const change = changes[rule.name];
    if (change !== undefined) rule.reply = { ...rule.reply, ...change };
  }
  return script;
}
