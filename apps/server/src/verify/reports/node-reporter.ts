/**
 * A `node --test` reporter module, written next to the report at run time and loaded with
 * `--test-reporter=<file>`. It turns the runner's event stream into JSON lines that
 * `parseNodeEvents` reads.
 *
 * Why not Node's built-in `--test-reporter=junit`: on Node 20 its testcases carry no file name
 * (classname is always "test"), it escapes quotes twice (`&amp;quot;`) and it reports a file that
 * failed to load only as "test failed", without the SyntaxError that the file printed. The raw
 * events have all three: `file` on every event, the original error, and the file's stderr.
 */
export const NODE_REPORTER_FILE = "kodo-node-reporter.mjs";

export const NODE_REPORTER_SOURCE = String.raw`// written by kodo: node:test events as JSON lines (see apps/server/src/verify/reports/node-reporter.ts)
const MESSAGE_LIMIT = 4000;
const STDERR_LIMIT = 8192;

function describe(error) {
  if (error === undefined || error === null) return undefined;
  const cause = error.cause;
  const inner = cause !== undefined && cause !== null && typeof cause === "object" ? cause : undefined;
  let text = inner !== undefined && typeof inner.message === "string" ? inner.message : typeof cause === "string" ? cause : String(error.message ?? error);
  if (inner !== undefined && typeof inner.name === "string" && inner.name !== "Error" && !text.startsWith(inner.name)) text = inner.name + ": " + text;
  return text.slice(0, MESSAGE_LIMIT);
}

export default async function* kodoReporter(source) {
  const stderrSeen = new Map();
  for await (const event of source) {
    const data = event.data ?? {};
    if (event.type === "test:start") {
      yield JSON.stringify({ t: "start", file: data.file, nesting: data.nesting, name: data.name }) + "\n";
    } else if (event.type === "test:pass" || event.type === "test:fail") {
      const details = data.details ?? {};
      const error = details.error;
      yield JSON.stringify({
        t: event.type === "test:pass" ? "pass" : "fail",
        file: data.file,
        nesting: data.nesting,
        name: data.name,
        suite: details.type === "suite",
        skip: data.skip !== undefined && data.skip !== false,
        todo: data.todo !== undefined && data.todo !== false,
        ms: details.duration_ms,
        failureType: error?.failureType,
        message: describe(error),
      }) + "\n";
    } else if (event.type === "test:stderr" && typeof data.file === "string") {
      const seen = stderrSeen.get(data.file) ?? 0;
      if (seen < STDERR_LIMIT) {
        const text = String(data.message ?? "").slice(0, STDERR_LIMIT - seen);
        stderrSeen.set(data.file, seen + text.length);
        yield JSON.stringify({ t: "stderr", file: data.file, text }) + "\n";
      }
    } else if (event.type === "test:diagnostic") {
      yield JSON.stringify({ t: "diag", message: data.message }) + "\n";
    }
  }
}
`;
