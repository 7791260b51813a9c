/**
 * Studio in a real browser (Debian's Chromium, headless) against a real `kodo serve` with the
 * scripted model: the token arrives in the fragment and leaves the address bar; a task is created
 * and run from the page, its plan approved (or rejected) there, and the card moves live to Done
 * with its diff; an agent's bash call is allowed from the approvals inbox by a person who said who
 * they are ("You are: alice", sent as X-Kodo-Actor and recorded); the event stream is cut
 * while a run moves on and the board catches up after the reconnect, without a reload.
 * With KODO_SCREENSHOTS=1 the main screens are saved to docs/screenshots/ (light and dark).
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalList, ExecuteResponse, Run, StoredEvent, Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { collectEvents, ok, until } from "../support/api.js";
import { CLI } from "../support/kodo-process.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";
import { launchChromium, pageErrors, screenshot } from "./browser.js";

const execFileAsync = promisify(execFile);
const COMMAND = "echo ran-after-approval | tee approved.txt";
const ASK_BASH_POLICY = { version: 1, rules: [{ id: "ask-bash", tool: "bash", action: "run", effect: "ask" }] };
const RUN_TIMEOUT = 240_000;

let stack: Stack | undefined;
let browser: Browser | undefined;
let token = "";
const contexts: BrowserContext[] = [];
const started = performance.now();

function kodoUrl(): string {
  if (stack === undefined) throw new Error("no stack");
  return stack.kodo.url;
}

beforeAll(async () => {
  browser = await launchChromium();
  const script = demoScriptWith({});
  script.rules.unshift(
    { name: "bash-ask", when: { user: "ASK-BASH", tool: "bash", toolResults: 0 }, reply: { toolCalls: [{ name: "bash", arguments: { command: COMMAND, description: "write approved.txt" } }] } },
    { name: "bash-ask-after", when: { user: "ASK-BASH", toolResults: 1 }, reply: { text: "Finished after the bash call." } },
  );
  stack = await startStack({ prefix: "kodo-studio-", script });
  token = (await readFile(path.join(stack.home, "token"), "utf8")).trim();
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stopStack(stack);
  console.log(`studio browser tests: ${Math.round((performance.now() - started) / 1000)} s`);
}, 120_000);

interface Tab {
  page: Page;
  errors: string[];
  /** every URL the page requested */
  requests: string[];
}

async function newTab(options: { width?: number; height?: number; colorScheme?: "light" | "dark" } = {}): Promise<Tab> {
  if (browser === undefined) throw new Error("no browser");
  const context = await browser.newContext({ viewport: { width: options.width ?? 1360, height: options.height ?? 900 }, colorScheme: options.colorScheme ?? "light" });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const requests: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  return { page, errors: pageErrors(page), requests };
}

/** Opens the board the way `kodo studio` says: the token in the fragment. */
async function openStudio(tab: Tab, at = "/"): Promise<void> {
  await tab.page.goto(`${kodoUrl()}${at}#token=${token}`);
  await tab.page.locator("[data-stream=live]").waitFor();
}

const card = (column: string, taskId: string): string => `[data-column="${column}"] [data-task-id="${taskId}"]`;

async function createFromDialog(page: Page, fields: { title: string; prompt: string; auto?: boolean; policy?: unknown }): Promise<string> {
  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Repository").fill(stack?.repo ?? "");
  await dialog.getByLabel("Title").fill(fields.title);
  await dialog.getByLabel("What should the agent do?").fill(fields.prompt);
  if (fields.auto === true) await dialog.getByLabel("Approve it automatically").check();
  if (fields.policy !== undefined) {
    await dialog.getByText("More options").click();
    await dialog.getByLabel("Task policy (JSON)").fill(JSON.stringify(fields.policy));
  }
  await dialog.getByRole("button", { name: "Create and run" }).click();
  await page.waitForURL(/\/tasks\/tsk_[a-z0-9]+$/);
  return page.url().split("/").pop() ?? "";
}

async function currentRun(taskId: string): Promise<string> {
  return until(`a run of ${taskId}`, async () => (await ok<Task>(kodoUrl(), "GET", `/api/tasks/${taskId}`)).currentRunId ?? undefined, 30_000);
}

describe("Studio in a browser", () => {
  it("without a token shows how to get the link; a pasted link opens the board", async () => {
    const tab = await newTab();
    await tab.page.goto(`${kodoUrl()}/`);
    await tab.page.getByRole("heading", { name: "kodo Studio needs its link" }).waitFor();
    expect(await tab.page.locator("pre").first().textContent()).toContain("kodo studio");
    await tab.page.getByLabel("Or paste the link here").fill(`${kodoUrl()}/#token=${token}`);
    await tab.page.getByRole("button", { name: "Open" }).click();
    await tab.page.locator("[data-stream=live]").waitFor();
    await tab.page.getByRole("heading", { name: "No tasks yet" }).waitFor();
    expect(tab.errors).toEqual([]);
  });

  it("takes the token from the fragment, then creates, runs, approves and shows the diff, live", { timeout: 420_000 }, async () => {
    const tab = await newTab();
    const { page } = tab;
    await openStudio(tab);
    // the token left the address bar and the history entry at once; the tab keeps it
    expect(page.url()).toBe(`${kodoUrl()}/`);
    expect(await page.evaluate(() => window.sessionStorage.getItem("kodo.token"))).toBe(token);
    await screenshot(page, "empty-board-light");

    // keyboard: the dialog opens from the focused button and Escape closes it, focus going back
    await page.getByRole("button", { name: "New task" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "New task" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog", { name: "New task" }).waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("New task");

    const taskId = await createFromDialog(page, { title: DEMO_TASK.title, prompt: DEMO_TASK.prompt });
    const approve = page.getByRole("button", { name: "Approve plan" });
    await approve.waitFor({ timeout: RUN_TIMEOUT });
    const runId = await currentRun(taskId);
    expect(await page.locator(".plan-summary").textContent()).toContain("slugify");
    expect(await page.locator(".plan-card").getByText("src/slugify.js").count()).toBeGreaterThan(0);
    await screenshot(page, "task-plan-light");

    await page.getByRole("link", { name: "Board", exact: true }).click();
    await page.locator(card("PlanningReview", taskId)).waitFor();
    await screenshot(page, "board-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "board-dark");
    await page.locator(card("PlanningReview", taskId)).click();
    await approve.waitFor();
    await screenshot(page, "task-plan-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await approve.click();
    await page.locator('.task-actions [data-status="Done"]').waitFor({ timeout: RUN_TIMEOUT });
    const file = page.locator('.diff-file[data-file="src/slugify.js"]');
    await file.waitFor();
    expect(await file.locator(".diff-add").count()).toBeGreaterThan(5);
    expect(await file.locator(".diff-add").first().textContent()).toContain("/**");
    expect(await page.locator('.diff-file[data-file="test/slugify.test.js"]').count()).toBe(1);
    const run = await ok<Run>(kodoUrl(), "GET", `/api/runs/${runId}`);
    expect(run.status).toBe("Done");
    expect(await page.locator(".timeline-item").evaluateAll((items) => items.map((item) => item.getAttribute("data-status")))).toEqual(run.history.map((change) => change.to));
    await screenshot(page, "diff-light", { selector: ".diff-section" });
    await screenshot(page, "task-done-light", { fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "diff-dark", { selector: ".diff-section" });
    await page.emulateMedia({ colorScheme: "light" });

    await page.getByRole("link", { name: "Board", exact: true }).click();
    await page.locator(card("Done", taskId)).waitFor();
    // the token never was in a URL the page requested
    expect(tab.requests.filter((url) => url.includes(token))).toEqual([]);
    expect(tab.errors).toEqual([]);
  });

  it("rejects a plan with a reason; Escape closes the reason dialog without deciding", { timeout: 360_000 }, async () => {
    const tab = await newTab();
    const { page } = tab;
    await openStudio(tab);
    const taskId = await createFromDialog(page, { title: "A plan to turn down", prompt: DEMO_TASK.prompt });
    await page.getByRole("button", { name: "Approve plan" }).waitFor({ timeout: RUN_TIMEOUT });
    const runId = await currentRun(taskId);

    await page.getByRole("button", { name: "Reject…" }).click();
    const dialog = page.getByRole("dialog", { name: "Reject the plan" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect((await ok<Run>(kodoUrl(), "GET", `/api/runs/${runId}`)).status).toBe("PlanningReview");

    await page.getByRole("button", { name: "Reject…" }).click();
    await dialog.getByLabel("Why? (kept with the run)").fill("Use the existing helper in src/text.js instead");
    await dialog.getByRole("button", { name: "Reject plan" }).click();
    await page.locator('.task-actions [data-status="Rejected"]').waitFor({ timeout: 60_000 });
    await page.locator(".plan-card", { hasText: "Use the existing helper" }).waitFor();
    const run = await runEnded(kodoUrl(), runId);
    expect(run.status).toBe("Rejected");
    expect(run.history.at(-1)?.reason).toContain("Use the existing helper in src/text.js instead");
    await page.getByRole("link", { name: "Board", exact: true }).click();
    await page.locator(card("Ended", taskId)).waitFor();
    expect(tab.errors).toEqual([]);
  });

  it("answers an agent's bash call from the approvals inbox as alice, its deadline counting down", { timeout: 420_000 }, async () => {
    const tab = await newTab();
    const { page } = tab;
    await openStudio(tab);
    const taskId = await createFromDialog(page, { title: "Ask before bash", prompt: `${DEMO_TASK.prompt} ASK-BASH`, auto: true, policy: ASK_BASH_POLICY });
    const runId = await currentRun(taskId);

    // while the run starts: say who you are, checked with the server's rule (Escape closes without a change)
    const you = page.getByRole("button", { name: /^You are:/ });
    expect(await you.textContent()).toBe("You are: not set");
    await you.focus();
    await page.keyboard.press("Enter");
    const who = page.getByRole("dialog", { name: "Who are you?" });
    await who.getByLabel("Your name").fill("alice");
    await page.keyboard.press("Escape");
    await who.waitFor({ state: "hidden" });
    expect(await you.textContent()).toBe("You are: not set");
    await you.click();
    await who.getByLabel("Your name").fill("alice smith");
    await who.getByRole("button", { name: "Save" }).click();
    await who.getByRole("alert").filter({ hasText: "1–100 characters of A-Z a-z 0-9 . _ @ -" }).waitFor();
    await who.getByLabel("Your name").fill("alice");
    await page.keyboard.press("Enter");
    await who.waitFor({ state: "hidden" });
    expect(await you.textContent()).toBe("You are: alice");
    expect(await page.evaluate(() => window.localStorage.getItem("kodo.actor"))).toBe("alice");
    // the task page shows the ask as it arrives
    await page.locator(".asks .approval").waitFor({ timeout: RUN_TIMEOUT });

    await page.getByRole("link", { name: /^Approvals/ }).click();
    const ask = page.locator(".approvals-list .approval");
    await ask.waitFor();
    expect(await ask.count()).toBe(1);
    expect(await ask.locator("pre").textContent()).toBe(COMMAND);
    const first = await ask.locator(".deadline time").textContent();
    await until("the countdown to move", async () => ((await ask.locator(".deadline time").textContent()) !== first ? true : undefined), 5_000, 200);
    expect(await page.locator(".topnav .count-alert").textContent()).toBe("1");
    await screenshot(page, "approvals-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "approvals-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await ask.getByRole("button", { name: "Allow once" }).click();
    await ask.waitFor({ state: "detached" });
    await page.getByRole("heading", { name: "Nothing waits for you" }).waitFor();
    await page.locator(".recent-list li", { hasText: "by alice" }).first().waitFor();
    const { approvals } = await ok<ApprovalList>(kodoUrl(), "GET", `/api/approvals?status=all&runId=${runId}`);
    expect(approvals.map((approval) => [approval.decision, approval.answeredBy])).toEqual([["once", "alice"]]);
    const run = await runEnded(kodoUrl(), runId, RUN_TIMEOUT);
    expect(run.status).toBe("Done");
    expect(readFileSync(path.join(run.worktreePath ?? "", "approved.txt"), "utf8")).toBe("ran-after-approval\n");
    expect(tab.errors).toEqual([]);
  });

  it("catches up after the event stream drops while a run moves on: resumes with Last-Event-ID, no reload", { timeout: 420_000 }, async () => {
    const url = kodoUrl();
    const task = await ok<Task>(url, "POST", "/api/tasks", { ...DEMO_TASK, title: "Across a dropped stream", repoPath: stack?.repo });
    const { runId } = await ok<ExecuteResponse>(url, "POST", `/api/tasks/${task.id}/execute`);
    const tab = await newTab();
    const { page } = tab;
    await openStudio(tab);
    await page.locator(card("PlanningReview", task.id)).waitFor({ timeout: RUN_TIMEOUT });
    const loadedAt = await page.evaluate(() => window.__kodoStudio?.loadedAt);
    const resumedWith: Array<string | undefined> = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/events") resumedWith.push(request.headers()["last-event-id"]);
    });

    // a refresh of the card still under way would show the later state without the stream
    await page.waitForFunction(() => window.__kodoStudio?.boardSettled() === true, undefined, { timeout: 30_000 });
    // the network refuses the stream (and every task read) from now on, and the open connection is cut
    await page.route("**/api/tasks/**", (route) => route.abort("connectionrefused"));
    await page.route("**/api/events*", (route) => route.abort("connectionrefused"));
    await page.evaluate(() => window.__kodoStudio?.dropEventStream());
    await page.locator("[data-stream=reconnecting]").waitFor();
    await ok(url, "POST", `/api/runs/${runId}/approve-plan`);
    const run = await runEnded(url, runId, RUN_TIMEOUT);
    expect(run.status).toBe("Done");
    expect(await page.locator(card("PlanningReview", task.id)).count()).toBe(1); // nothing else told the page

    await page.unroute("**/api/events*");
    await page.unroute("**/api/tasks/**");
    await page.locator(card("Done", task.id)).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => window.__kodoStudio?.loadedAt)).toBe(loadedAt);
    expect(await page.evaluate(() => window.__kodoStudio?.connections())).toBeGreaterThanOrEqual(2);
    expect(resumedWith.length).toBeGreaterThan(0);
    expect(resumedWith.every((id) => id !== undefined && /^\d+$/.test(id))).toBe(true);

    // every event of the run after the drop reached the page, in order, once
    const log = collectEvents(`${url}/api/events?runId=${runId}`, { "last-event-id": "0" });
    let events: StoredEvent[] = [];
    try {
      events = await until("the run's events", async () => (log.events.some((stored) => stored.event.type === "task.status_changed" && stored.event.to === "Done") ? log.events : undefined), 30_000);
    } finally {
      log.close();
    }
    const seen = (await page.evaluate(() => window.__kodoStudio?.eventIds())) ?? [];
    const afterDrop = events.filter((stored) => stored.id > Number(resumedWith[0])).map((stored) => stored.id);
    expect(afterDrop.length).toBeGreaterThan(0);
    expect(afterDrop.filter((id) => !seen.includes(id))).toEqual([]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(tab.errors.filter((error) => !error.includes("ERR_CONNECTION_REFUSED"))).toEqual([]);
  });

  it("stacks the columns on a phone", async () => {
    const tab = await newTab({ width: 390, height: 844, colorScheme: "dark" });
    await openStudio(tab);
    await tab.page.locator("[data-column]").first().waitFor();
    const boxes = await tab.page.locator("[data-column]").evaluateAll((columns) => columns.map((column) => column.getBoundingClientRect()).map((box) => ({ x: box.x, y: box.y, width: box.width })));
    expect(boxes).toHaveLength(7);
    expect(new Set(boxes.map((box) => Math.round(box.x))).size).toBe(1);
    expect(boxes.every((box, index) => index === 0 || box.y > (boxes[index - 1]?.y ?? 0))).toBe(true);
    expect(boxes.every((box) => box.width <= 390)).toBe(true);
    await screenshot(tab.page, "board-phone-dark");
    expect(tab.errors).toEqual([]);
  });
});

describe("getting the link", () => {
  it("kodo serve prints it; kodo studio prints it again and --open goes through a 0600 page, not a command line", async () => {
    if (stack === undefined) throw new Error("no stack");
    const link = `${stack.kodo.url}/#token=${token}`;
    expect(stack.kodo.output()).toContain(`studio: ${link}`);
    const env = { ...process.env, KODO_HOME: stack.home };
    const printed = await execFileAsync(process.execPath, [CLI, "studio", "--json"], { env, timeout: 30_000 });
    expect(JSON.parse(printed.stdout)).toEqual({ url: link });

    const bin = path.join(stack.home, "fake-bin");
    const argsFile = path.join(stack.home, "xdg-open.args");
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\n`);
    await chmod(path.join(bin, "xdg-open"), 0o755);
    const opened = await execFileAsync(process.execPath, [CLI, "studio", "--open", "--json"], { env: { ...env, PATH: `${bin}:${process.env["PATH"] ?? ""}` }, timeout: 30_000 });
    expect(JSON.parse(opened.stdout)).toEqual({ url: link, opened: true });
    const args = await until("xdg-open to run", async () => (existsSync(argsFile) ? readFileSync(argsFile, "utf8") : undefined), 10_000);
    const opener = path.join(stack.home, "studio-open.html");
    expect(args.trim()).toBe(opener);
    expect(args).not.toContain(token);
    expect(statSync(opener).mode & 0o777).toBe(0o600);
    expect(readFileSync(opener, "utf8")).toContain(`url=${link}`);

    // without xdg-open: the link is still printed, the failure said on stderr, exit 0
    const without = await execFileAsync(process.execPath, [CLI, "studio", "--open"], { env: { ...env, PATH: path.join(stack.home, "empty-bin") }, timeout: 30_000 });
    expect(without.stdout).toContain(link);
    expect(without.stderr).toContain("could not start a browser");
  });
});
