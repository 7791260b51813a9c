/**
 * JUnit XML → test cases, for the two runners whose JUnit kodo reads:
 * - pytest (`--junitxml`, `-o junit_family=xunit1` so each testcase carries `file`): classname is
 *   the dotted module path plus classes (`tests.test_a.TestK`), name the function (with its
 *   parametrize id); a collection error is a testcase with an `<error message="collection failure">`.
 * - vitest (`--reporter=junit`): classname is the file, name the suites and the test joined by " > ";
 *   a file that fails to load is a testcase whose name is the file itself.
 */
import { countCases, dropParents, formatTestId, stripAnsi } from "../test-ids.js";
import type { CaseOutcome, CollectionProblem, ParsedReport, TestCaseResult, TestLocation } from "../types.js";
import { findAll, firstChild, parseXml, type XmlElement } from "./xml.js";

export type JunitFlavor = "pytest" | "vitest";

const MESSAGE_LIMIT = 4000;

function outcomeOf(testcase: XmlElement): { outcome: CaseOutcome; detail: XmlElement | undefined } {
  const failure = firstChild(testcase, "failure");
  if (failure !== undefined) return { outcome: "failed", detail: failure };
  const error = firstChild(testcase, "error");
  if (error !== undefined) return { outcome: "error", detail: error };
  const skipped = firstChild(testcase, "skipped");
  if (skipped !== undefined) return { outcome: "skipped", detail: undefined };
  return { outcome: "passed", detail: undefined };
}

/** pytest's `E   ` lines are the assertion's own words; otherwise the first lines of the trace. */
export function summarizeTrace(text: string): string {
  const lines = stripAnsi(text).split("\n");
  const marked = lines.filter((line) => line.startsWith("E ")).map((line) => line.slice(1).trim());
  const chosen = marked.length > 0 ? marked : lines.map((line) => line.trimEnd()).filter((line) => line.trim() !== "").slice(0, 12);
  return chosen.join("\n").slice(0, MESSAGE_LIMIT);
}

function messageOf(detail: XmlElement | undefined): string {
  if (detail === undefined) return "";
  const attribute = stripAnsi(detail.attributes["message"] ?? "").trim();
  if (attribute !== "" && attribute !== "collection failure") return attribute.slice(0, MESSAGE_LIMIT);
  return summarizeTrace(detail.text);
}

/** `tests/test_a.py` + `tests.test_a.TestK` → [`TestK`]: the classes between module and function. */
function pytestClasses(file: string, classname: string): string[] {
  const module = file.endsWith(".py") ? file.slice(0, -3).split("/").join(".") : file.split("/").join(".");
  if (classname === module) return [];
  if (classname.startsWith(`${module}.`)) return classname.slice(module.length + 1).split(".");
  return [];
}

function pytestLocation(testcase: XmlElement, notes: Set<string>): TestLocation {
  const classname = testcase.attributes["classname"] ?? "";
  const name = testcase.attributes["name"] ?? "";
  const file = testcase.attributes["file"];
  if (file !== undefined && file !== "") return { file, path: [...pytestClasses(file, classname), name] };
  notes.add("pytest report has no file attributes (not xunit1): test ids are guessed from classnames");
  const parts = classname.split(".");
  const classes: string[] = [];
  while (parts.length > 1 && /^[A-Z]/.test(parts.at(-1) ?? "")) classes.unshift(parts.pop() ?? "");
  return { file: `${parts.join("/")}.py`, path: [...classes, name] };
}

function vitestLocation(testcase: XmlElement): TestLocation {
  const file = testcase.attributes["classname"] ?? "";
  const name = testcase.attributes["name"] ?? "";
  return { file, path: name === file ? [] : name.split(" > ") };
}

function isCollectionProblem(flavor: JunitFlavor, testcase: XmlElement, outcome: CaseOutcome, detail: XmlElement | undefined): boolean {
  if (outcome !== "failed" && outcome !== "error") return false;
  if (flavor === "pytest") {
    return detail?.attributes["message"] === "collection failure" || (testcase.attributes["classname"] ?? "") === "";
  }
  const name = testcase.attributes["name"] ?? "";
  return name !== "" && name === testcase.attributes["classname"];
}

/** Parses a JUnit XML report; throws (XmlError) when the document is malformed. */
export function parseJunit(xml: string, flavor: JunitFlavor): ParsedReport {
  const root = parseXml(xml);
  if (root.name !== "testsuites" && root.name !== "testsuite") {
    throw new Error(`not a JUnit report: the root element is <${root.name}>`);
  }
  const notes = new Set<string>();
  const cases: TestCaseResult[] = [];
  const collectionProblems: CollectionProblem[] = [];
  for (const testcase of findAll(root, "testcase")) {
    const { outcome, detail } = outcomeOf(testcase);
    if (isCollectionProblem(flavor, testcase, outcome, detail)) {
      const location = testcase.attributes["file"] ?? testcase.attributes["name"] ?? "";
      collectionProblems.push({ location, message: summarizeTrace(detail?.text ?? "") || messageOf(detail) });
      continue;
    }
    const location = flavor === "pytest" ? pytestLocation(testcase, notes) : vitestLocation(testcase);
    const seconds = Number(testcase.attributes["time"]);
    cases.push({
      id: formatTestId(flavor, location),
      location,
      outcome,
      message: messageOf(detail),
      ...(Number.isFinite(seconds) ? { durationMs: Math.round(seconds * 1000) } : {}),
    });
  }
  const leaves = dropParents(cases);
  return { format: "junit", cases: leaves, collectionProblems, counts: countCases(leaves, collectionProblems), notes: [...notes] };
}
