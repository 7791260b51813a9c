/**
 * `go test -json` event stream (stdout) → test cases.
 *
 * Facts this relies on: one JSON object per line with Action run|pause|cont|output|pass|fail|skip|bench
 * (plus start, and build-output/build-fail since Go 1.24), Package, and Test for test events
 * (subtests as `Parent/sub`, spaces rewritten to `_`). A package that does not compile is, up to
 * Go 1.23, a plain (non-JSON) `FAIL\t<pkg> [build failed]` (or `[setup failed]`) line on stdout
 * with the compiler's messages on stderr under `# <pkg>` headers; from Go 1.24 it is JSON
 * (`build-fail` / a package `fail` with FailedBuild).
 */
import { countCases, dropParents, formatTestId } from "../test-ids.js";
import type { CaseOutcome, CollectionProblem, ParsedReport, TestCaseResult } from "../types.js";

interface GoEvent {
  Action: string;
  Package?: string;
  ImportPath?: string;
  Test?: string;
  Output?: string;
  Elapsed?: number;
  FailedBuild?: string;
}

const OUTPUT_LIMIT = 4000;

function readEvent(line: string): GoEvent | undefined {
  if (!line.startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || !("Action" in value) || typeof value.Action !== "string") return undefined;
  const raw = value as Record<string, unknown>;
  const event: GoEvent = { Action: value.Action };
  for (const key of ["Package", "ImportPath", "Test", "Output", "FailedBuild"] as const) {
    const field = raw[key];
    if (typeof field === "string") event[key] = field;
  }
  if (typeof raw["Elapsed"] === "number") event.Elapsed = raw["Elapsed"];
  return event;
}

/** Compiler messages on stderr, grouped by their `# <pkg>` header. */
function stderrByPackage(stderr: string): Map<string, string> {
  const groups = new Map<string, string>();
  let current: string | undefined;
  for (const line of stderr.split("\n")) {
    if (line.startsWith("# ")) {
      current = line.slice(2).split(" ")[0] ?? "";
      continue;
    }
    if (current === undefined || line.trim() === "") continue;
    groups.set(current, `${groups.get(current) ?? ""}${line}\n`);
  }
  return groups;
}

/** A non-JSON line `FAIL\t<pkg> [build failed]` → the package. */
function buildFailureLine(line: string): string | undefined {
  if (!line.startsWith("FAIL\t")) return undefined;
  const rest = line.slice(5).trim();
  for (const marker of [" [build failed]", " [setup failed]"]) {
    if (rest.endsWith(marker)) return rest.slice(0, -marker.length);
  }
  return undefined;
}

function isNoise(line: string): boolean {
  const trimmed = line.trim();
  return ["=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP"].some((prefix) => trimmed.startsWith(prefix));
}

export function parseGoJson(stdout: string, stderr: string): ParsedReport {
  const notes: string[] = [];
  const outputs = new Map<string, string>();
  const results = new Map<string, { pkg: string; test: string; outcome: CaseOutcome; elapsed?: number }>();
  const packageFailed = new Map<string, string | undefined>();
  const buildFailed = new Map<string, string>();
  const buildOutput = new Map<string, string>();
  let events = 0;
  for (const line of stdout.split("\n")) {
    const failedPackage = buildFailureLine(line);
    if (failedPackage !== undefined) {
      buildFailed.set(failedPackage, "");
      continue;
    }
    const event = readEvent(line);
    if (event === undefined) continue;
    events += 1;
    if (event.Action === "build-output" && event.ImportPath !== undefined) {
      buildOutput.set(event.ImportPath, `${buildOutput.get(event.ImportPath) ?? ""}${event.Output ?? ""}`);
      continue;
    }
    if (event.Action === "build-fail" && event.ImportPath !== undefined) {
      buildFailed.set(event.ImportPath, buildOutput.get(event.ImportPath) ?? "");
      continue;
    }
    const pkg = event.Package;
    if (pkg === undefined) continue;
    const key = `${pkg}\u0000${event.Test ?? ""}`;
    if (event.Action === "output") {
      const text = `${outputs.get(key) ?? ""}${event.Output ?? ""}`;
      outputs.set(key, text.length > OUTPUT_LIMIT * 4 ? text.slice(-OUTPUT_LIMIT * 4) : text);
      continue;
    }
    if (event.Action !== "pass" && event.Action !== "fail" && event.Action !== "skip") continue;
    if (event.Test === undefined) {
      if (event.Action === "fail") packageFailed.set(pkg, event.FailedBuild);
      continue;
    }
    const outcome: CaseOutcome = event.Action === "pass" ? "passed" : event.Action === "fail" ? "failed" : "skipped";
    results.set(key, { pkg, test: event.Test, outcome, ...(event.Elapsed === undefined ? {} : { elapsed: event.Elapsed }) });
  }
  const compilerMessages = stderrByPackage(stderr);
  const cases: TestCaseResult[] = [];
  for (const [key, result] of results) {
    const location = { file: result.pkg, path: result.test.split("/") };
    const message = result.outcome === "failed"
      ? (outputs.get(key) ?? "").split("\n").filter((line) => line.trim() !== "" && !isNoise(line)).map((line) => line.trim()).join("\n").slice(0, OUTPUT_LIMIT)
      : "";
    cases.push({
      id: formatTestId("go", location),
      location,
      outcome: result.outcome,
      message,
      ...(result.elapsed === undefined ? {} : { durationMs: Math.round(result.elapsed * 1000) }),
    });
  }
  const collectionProblems: CollectionProblem[] = [];
  for (const [pkg, failedBuild] of packageFailed) {
    if (failedBuild !== undefined && failedBuild !== "") buildFailed.set(failedBuild, buildOutput.get(failedBuild) ?? "");
    else if (!cases.some((item) => item.location.file === pkg && item.outcome === "failed")) {
      const packageOutput = outputs.get(`${pkg}\u0000`) ?? "";
      if (packageOutput.includes("[build failed]") || packageOutput.includes("[setup failed]")) buildFailed.set(pkg, "");
      else {
        // the test binary failed outside any test (TestMain, init, a crash between tests)
        const location = { file: pkg, path: [] };
        const message = packageOutput.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("FAIL")).join("\n").slice(0, OUTPUT_LIMIT);
        cases.push({ id: formatTestId("go", location), location, outcome: "error", message: message || "test binary failed" });
      }
    }
  }
  for (const [pkg, output] of buildFailed) {
    const message = (output || compilerMessages.get(pkg) || "build failed").trim().slice(0, OUTPUT_LIMIT);
    collectionProblems.push({ location: pkg, message });
  }
  if (events === 0 && buildFailed.size === 0) notes.push("no go test JSON events in the output");
  const leaves = dropParents(cases);
  return { format: "go-json", cases: leaves, collectionProblems, counts: countCases(leaves, collectionProblems), notes };
}
