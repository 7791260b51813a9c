/** The scripted model of the `kodo ci run` tests: one marker per case (`CASE:<name>:` in the task prompt). */

export type ToolCall = { name: string; arguments: Record<string, unknown> };

export const PLAN = { summary: "Do what the task says.", steps: ["Do it."], files: ["src/hello.js"], risks: ["none"], tests: ["none"] };

export const bash = (command: string): ToolCall => ({ name: "bash", arguments: { command, description: "run a command" } });
export const write = (filePath: string, content: string): ToolCall => ({ name: "write", arguments: { filePath, content } });

/** Every bash command allowed by the task's own policy (the defaults' git denies stay in force). */
export const TRUST_BASH = { version: 1, rules: [{ id: "trust-bash", tool: "bash", action: "run", effect: "allow", reason: "ci test: let the command run" }] };

/** The build turn of one case: its tool calls in order, then a closing text. */
export function caseRules(name: string, calls: ToolCall[]): unknown[] {
  const marker = `CASE:${name}:`;
  return [
    ...calls.map((call, index) => ({ name: `${name}-${index}`, when: { user: marker, toolResults: index }, reply: { toolCalls: [call] } })),
    { name: `${name}-done`, when: { user: marker, toolResults: calls.length }, reply: { text: `${name}: done` } },
  ];
}

/** Rules that answer the plan of one case differently; they come before the common plan rule. */
export function planRules(name: string, reply: Record<string, unknown>, afterError?: Record<string, unknown>): unknown[] {
  const marker = `CASE:${name}:`;
  return [
    { name: `${name}-plan`, when: { user: marker, tool: "StructuredOutput", toolResults: 0 }, reply },
    ...(afterError === undefined ? [] : [{ name: `${name}-plan-after`, when: { user: marker, toolResults: 1 }, reply: afterError }]),
  ];
}

export function script(caseSpecific: { plans?: unknown[]; builds?: unknown[] }): unknown {
  return {
    version: 1,
    rules: [
      { name: "title", when: { titleRequest: true }, reply: { text: "ci" } },
      ...(caseSpecific.plans ?? []),
      { name: "plan", when: { user: "KODO-PHASE: plan", tool: "StructuredOutput" }, reply: { toolCalls: [{ name: "StructuredOutput", arguments: PLAN }] } },
      ...(caseSpecific.builds ?? []),
    ],
  };
}
