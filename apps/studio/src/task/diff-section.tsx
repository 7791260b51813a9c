/**
 * The worktree diff, from the run's `diff.patch` artifact: per file, unified, with line numbers
 * and added/removed lines marked (by colour and by their + / − sign).
 */
import { useMemo, useState, type ReactNode } from "react";
import type { Run } from "@kodo/contracts";
import { fileLabel, parseUnifiedDiff, type DiffFile } from "../lib/diff.js";
import { ErrorNote, Loading } from "../ui/states.js";
import { useArtifactText } from "./use-artifact.js";

const LINES_SHOWN = 1500;

function FileDiff(props: { file: DiffFile; index: number }): ReactNode {
  const { file } = props;
  const [all, setAll] = useState(false);
  const total = file.hunks.reduce((sum, hunk) => sum + hunk.lines.length + 1, 0);
  let budget = all ? Number.POSITIVE_INFINITY : LINES_SHOWN;
  return (
    <details className="diff-file" open data-file={file.newPath ?? file.oldPath ?? ""}>
      <summary>
        <span className={`file-status file-${file.status}`}>{file.status}</span>
        <code className="diff-file-name">{fileLabel(file)}</code>
        <span className="diff-counts">
          <span className="added">+{file.additions}</span> <span className="removed">−{file.deletions}</span>
        </span>
      </summary>
      {file.binary ? (
        <p className="muted">Binary file: not shown.</p>
      ) : file.hunks.length === 0 ? (
        <p className="muted">No line changes (mode or name only).</p>
      ) : (
        <div className="diff-scroll">
          <table className="diff-table" aria-label={`changes in ${fileLabel(file)}`}>
            <tbody>
              {file.hunks.map((hunk, hunkIndex) => {
                if (budget <= 0) return null;
                budget -= 1;
                const lines = hunk.lines.slice(0, Math.max(0, budget));
                budget -= lines.length;
                return [
                  <tr key={`h${hunkIndex}`} className="diff-hunk">
                    <td colSpan={3}>{hunk.header}</td>
                  </tr>,
                  ...lines.map((line, lineIndex) => (
                    <tr key={`${hunkIndex}-${lineIndex}`} className={`diff-line diff-${line.kind}`}>
                      <td className="line-number" aria-label={line.oldNumber === null ? undefined : `old line ${line.oldNumber}`}>
                        {line.oldNumber ?? ""}
                      </td>
                      <td className="line-number" aria-label={line.newNumber === null ? undefined : `new line ${line.newNumber}`}>
                        {line.newNumber ?? ""}
                      </td>
                      <td className="line-text">
                        <span className="line-sign" aria-hidden="true">
                          {line.kind === "add" ? "+" : line.kind === "del" ? "−" : line.kind === "note" ? "\\" : " "}
                        </span>
                        {line.kind === "add" ? <span className="visually-hidden">added: </span> : line.kind === "del" ? <span className="visually-hidden">removed: </span> : null}
                        {line.text}
                      </td>
                    </tr>
                  )),
                ];
              })}
            </tbody>
          </table>
          {!all && total > LINES_SHOWN ? (
            <button type="button" className="button small" onClick={() => setAll(true)}>
              Show all {total} lines
            </button>
          ) : null}
        </div>
      )}
    </details>
  );
}

export function DiffSection(props: { run: Run }): ReactNode {
  const { run } = props;
  const artifact = run.artifacts.find((item) => item.kind === "diff");
  const text = useArtifactText(run.id, artifact?.name, artifact?.sha256);
  const files = useMemo(() => (text?.phase === "ready" ? parseUnifiedDiff(text.text) : []), [text]);
  const stat = run.review?.stat;
  return (
    <section className="section diff-section" aria-labelledby="diff-title">
      <header className="section-head">
        <h2 id="diff-title">Changes</h2>
        {stat !== undefined ? (
          <span className="diff-counts">
            {stat.files} {stat.files === 1 ? "file" : "files"} <span className="added">+{stat.insertions}</span> <span className="removed">−{stat.deletions}</span>
          </span>
        ) : null}
      </header>
      {run.review?.commit != null ? (
        <p className="muted">
          Committed as <code>{run.review.commit.slice(0, 12)}</code> on <code>{run.branch}</code>.
        </p>
      ) : null}
      {artifact === undefined ? (
        <p className="muted">{["Todo", "Planning", "PlanningReview"].includes(run.status) ? "Nothing is written before the plan is approved." : run.status === "InProgress" ? "The agent is working; the diff is taken when the build ends." : "No diff was recorded."}</p>
      ) : text === undefined || text.phase === "loading" ? (
        <Loading what="the diff" />
      ) : text.phase === "error" ? (
        <ErrorNote title="The diff could not be read" message={text.error} />
      ) : files.length === 0 ? (
        <p className="muted">The build changed no file.</p>
      ) : (
        <div className="diff">
          {files.map((file, index) => (
            <FileDiff key={`${fileLabel(file)}-${index}`} file={file} index={index} />
          ))}
        </div>
      )}
    </section>
  );
}
