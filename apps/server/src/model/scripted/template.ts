/**
 * String templating for scripted replies: `{{name}}` is replaced by a value taken from the
 * request. Pure; the set of variables is closed so that a typo fails when the script is loaded,
 * not in the middle of a demo.
 */

/** Variables a script may use, and what they stand for. */
export const TEMPLATE_VARIABLES = {
  /**
   * The working directory OpenCode reports to the model (`Working directory: …` in its system
   * prompt). "." when the request carries none (e.g. the session-title request): OpenCode's
   * file tools resolve a relative path against the session directory, so "./x" still lands there.
   */
  directory: "the working directory OpenCode reports in its system prompt",
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export type TemplateValues = Record<TemplateVariable, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

function isTemplateVariable(name: string): name is TemplateVariable {
  return Object.hasOwn(TEMPLATE_VARIABLES, name);
}

/** Names used in `text` that are not template variables (empty when all are known). */
export function unknownTemplateVariables(text: string): string[] {
  const unknown: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!isTemplateVariable(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

export function renderTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (isTemplateVariable(name) ? values[name] : whole));
}

/** Renders every string inside a JSON-like value (object keys are left as they are). */
export function renderTemplateDeep(value: unknown, values: TemplateValues): unknown {
  if (typeof value === "string") return renderTemplate(value, values);
  if (Array.isArray(value)) return value.map((item) => renderTemplateDeep(item, values));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTemplateDeep(item, values)]));
  }
  return value;
}

/** Every string inside a JSON-like value, with its path below the value (for validation). */
export function stringsIn(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsIn(item, [...path, index]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringsIn(item, [...path, key]));
  }
  return [];
}
