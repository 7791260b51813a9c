/**
 * Audit findings (the run's `audit` artifacts: what the worktree audit found after an agent step,
 * and what it restored) and the evidence: bundle, branch, worktree, commits, every artifact.
 */
import { useState, type ReactNode } from "react";
import type { Run } from "@kodo/contracts";
import { bytes } from "../lib/format.js";
import { Dialog } from "../ui/dialog.js";
import { ErrorNote, Loading } from "../ui/states.js";
import { useArtifactText } from "./use-artifact.js";

interface AuditFile {
  stepKey?: string;
  findings?: { code?: string; kind?: string; path?: string; detail?: string; severity?: string }[];
  violations?: { code?: string; message?: string }[];
  restore?: { restored?: string[]; removed?: string[]; failed?: string[] };
}

function parseAudit(text: string): AuditFile | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as AuditFile) : undefined;
  } catch {
    return undefined;
  }
}

function AuditReport(props: { runId: string; name: string; sha256: string }): ReactNode {
  const text = useArtifactText(props.runId, props.name, props.sha256);
  if (text === undefined || text.phase === "loading") return <Loading what={props.name} />;
  if (text.phase === "error") return <ErrorNote message={text.error} />;
  const audit = parseAudit(text.text);
  if (audit === undefined) return <p className="muted">{props.name} is not an audit report.</p>;
  const restored = [...(audit.restore?.restored ?? []), ...(audit.restore?.removed ?? [])];
  return (
    <div className="audit" data-artifact={props.name}>
      <h3>After {audit.stepKey ?? props.name}</h3>
      <ul className="findings">
        {(audit.findings ?? []).map((finding, index) => (
          <li key={`f${index}`}>
            <span className={`flag ${finding.severity === "blocking" ? "flag-bad" : "flag-attention"}`}>{finding.code ?? "?"}</span> {finding.path !== undefined ? <code>{finding.path}</code> : null} {finding.detail}
          </li>
        ))}
        {(audit.violations ?? []).map((violation, index) => (
          <li key={`v${index}`}>
            <span className="flag flag-bad">{violation.code ?? "?"}</span> {violation.message}
          </li>
        ))}
      </ul>
      {restored.length > 0 ? <p className="muted">Restored: {restored.join(", ")}</p> : null}
      {(audit.restore?.failed ?? []).length > 0 ? <p className="field-error">Could not restore: {audit.restore?.failed?.join(", ")}</p> : null}
    </div>
  );
}

export function AuditSection(props: { run: Run }): ReactNode {
  const audits = props.run.artifacts.filter((artifact) => artifact.kind === "audit");
  const built = props.run.history.some((change) => change.to === "InProgress");
  return (
    <section className="section" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit findings</h2>
      {audits.length === 0 ? (
        <p className="muted">{built ? "None: the worktree audit found nothing after the agent's steps." : "The worktree is audited after each agent step."}</p>
      ) : (
        audits.map((artifact) => <AuditReport key={artifact.name} runId={props.run.id} name={artifact.name} sha256={artifact.sha256} />)
      )}
    </section>
  );
}

function ArtifactViewer(props: { runId: string; name: string; sha256: string }): ReactNode {
  const text = useArtifactText(props.runId, props.name, props.sha256);
  if (text === undefined || text.phase === "loading") return <Loading what={props.name} />;
  if (text.phase === "error") return <ErrorNote message={text.error} />;
  const shown = text.text.length > 200_000 ? `${text.text.slice(0, 200_000)}\n… (the rest is in the kodo home)` : text.text;
  return <pre className="code-block artifact-text">{shown}</pre>;
}

function Fact(props: { term: string; value: string }): ReactNode {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>
        <code>{props.value}</code>
      </dd>
    </div>
  );
}

export function EvidenceSection(props: { run: Run }): ReactNode {
  const { run } = props;
  const [viewing, setViewing] = useState<{ name: string; sha256: string } | undefined>();
  return (
    <section className="section" aria-labelledby="evidence-title">
      <h2 id="evidence-title">Evidence</h2>
      <dl className="facts">
        {run.evidencePath !== null ? <Fact term="evidence bundle" value={run.evidencePath} /> : null}
        <Fact term="run" value={run.id} />
        {run.branch !== null ? <Fact term="branch" value={run.branch} /> : null}
        {run.worktreePath !== null ? <Fact term="worktree" value={run.worktreePath} /> : null}
        {run.baseCommit !== null ? <Fact term="commits" value={`${run.baseCommit.slice(0, 12)} → ${run.headCommit?.slice(0, 12) ?? "…"}`} /> : null}
      </dl>
      {run.artifacts.length > 0 ? (
        <ul className="artifacts">
          {run.artifacts.map((artifact) => (
            <li key={artifact.name}>
              <button type="button" className="link-button" onClick={() => setViewing({ name: artifact.name, sha256: artifact.sha256 })} title={`sha256 ${artifact.sha256}`}>
                {artifact.name}
              </button>{" "}
              <span className="muted">
                {artifact.kind} · {bytes(artifact.bytes)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No artifact yet.</p>
      )}
      <Dialog open={viewing !== undefined} title={viewing?.name ?? ""} onClose={() => setViewing(undefined)} wide>
        {viewing !== undefined ? <ArtifactViewer runId={run.id} name={viewing.name} sha256={viewing.sha256} /> : null}
      </Dialog>
    </section>
  );
}
