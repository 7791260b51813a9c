/**
 * A new task: repository, title and prompt, and its options (plan approval, tests to verify the
 * work with, limits). Checked with the API's own schema before it is sent; "Create and run"
 * starts its first run at once.
 */
import { useId, useState, type ReactNode } from "react";
import { CreateTaskRequest, TestRunner, type Task } from "@kodo/contracts";
import { ApiFailure, describeFailure } from "../api/client.js";
import { useKodo } from "../state/kodo.js";
import { Dialog } from "../ui/dialog.js";

const LAST_REPO_KEY = "kodo.lastRepoPath";

interface Form {
  repoPath: string;
  title: string;
  prompt: string;
  planApproval: "manual" | "auto";
  baseRef: string;
  verifyTarget: string;
  runner: string;
  maxAttempts: string;
  approvalTimeoutSeconds: string;
  maxCostUsd: string;
  maxTokens: string;
  policy: string;
}

function lastRepo(): string {
  try {
    return window.localStorage.getItem(LAST_REPO_KEY) ?? "";
  } catch {
    return "";
  }
}

function emptyForm(): Form {
  return { repoPath: lastRepo(), title: "", prompt: "", planApproval: "manual", baseRef: "HEAD", verifyTarget: "", runner: "", maxAttempts: "3", approvalTimeoutSeconds: "", maxCostUsd: "", maxTokens: "", policy: "" };
}

const number = (text: string): number | undefined => (text.trim() === "" ? undefined : Number(text));

/** The policy text as JSON, or the parser's complaint. */
function policyOf(text: string): { value: unknown } | { error: string } {
  if (text.trim() === "") return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The request the form describes (unparsed: the schema says what is wrong with it). */
function requestOf(form: Form): Record<string, unknown> {
  const policy = policyOf(form.policy);
  const budget = { maxCostUsd: number(form.maxCostUsd), maxTokens: number(form.maxTokens) };
  const verify =
    form.verifyTarget.trim() === ""
      ? undefined
      : { target: form.verifyTarget.trim(), maxAttempts: number(form.maxAttempts), ...(form.runner === "" ? {} : { runner: form.runner }) };
  const request: Record<string, unknown> = {
    repoPath: form.repoPath.trim(),
    title: form.title,
    prompt: form.prompt,
    planApproval: form.planApproval,
    baseRef: form.baseRef.trim() === "" ? "HEAD" : form.baseRef.trim(),
    verify,
    approvalTimeoutSeconds: number(form.approvalTimeoutSeconds),
    budget: budget.maxCostUsd === undefined && budget.maxTokens === undefined ? undefined : JSON.parse(JSON.stringify(budget)),
    policy: "value" in policy ? policy.value : undefined,
  };
  for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];
  return request;
}

type Errors = Partial<Record<string, string>>;

export function CreateTaskDialog(props: { open: boolean; onClose: () => void; onCreated: (task: Task) => void }): ReactNode {
  return (
    <Dialog open={props.open} title="New task" onClose={props.onClose} wide>
      <CreateTaskForm onCancel={props.onClose} onCreated={props.onCreated} />
    </Dialog>
  );
}

function CreateTaskForm(props: { onCancel: () => void; onCreated: (task: Task) => void }): ReactNode {
  const { api, board } = useKodo();
  const [form, setForm] = useState<Form>(emptyForm);
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const id = useId();
  const set = (key: keyof Form) => (event: { target: { value: string } }) => setForm((current) => ({ ...current, [key]: event.target.value }));

  const submit = async (run: boolean): Promise<void> => {
    setFailure(undefined);
    const policy = policyOf(form.policy);
    if ("error" in policy) {
      setErrors({ policy: policy.error });
      return;
    }
    const parsed = CreateTaskRequest.safeParse(requestOf(form));
    if (!parsed.success) {
      const found: Errors = {};
      for (const issue of parsed.error.issues) {
        const key = issue.path.map(String).join(".");
        found[key] ??= issue.message;
      }
      setErrors(found);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const task = await api.createTask(parsed.data);
      try {
        window.localStorage.setItem(LAST_REPO_KEY, form.repoPath.trim());
      } catch {
        // storage disabled: nothing to remember
      }
      board.put(task);
      if (run) {
        const started = await api.executeTask(task.id);
        board.put({ ...task, status: started.status, currentRunId: started.runId });
      }
      setForm(emptyForm());
      props.onCreated(task);
    } catch (error) {
      if (error instanceof ApiFailure && error.code === "VALIDATION_FAILED" && Array.isArray(error.details?.["issues"])) {
        const found: Errors = {};
        for (const issue of error.details["issues"] as { path?: string; message?: string }[]) found[issue.path ?? ""] ??= issue.message ?? "invalid";
        setErrors(found);
      }
      setFailure(describeFailure(error));
    } finally {
      setBusy(false);
    }
  };

  const field = (key: keyof Form, label: string, input: ReactNode, hint?: string, errorKey: string = key): ReactNode => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      {input}
      {hint !== undefined ? <p className="field-hint">{hint}</p> : null}
      {errors[errorKey] !== undefined ? (
        <p className="field-error" id={`${id}-${key}-error`}>
          {errors[errorKey]}
        </p>
      ) : null}
    </div>
  );
  const inputProps = (key: keyof Form, errorKey: string = key) => ({
    id: `${id}-${key}`,
    value: form[key],
    onChange: set(key),
    "aria-invalid": errors[errorKey] !== undefined,
    "aria-describedby": errors[errorKey] !== undefined ? `${id}-${key}-error` : undefined,
  });

  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        void submit(true);
      }}
    >
      {field("repoPath", "Repository", <input {...inputProps("repoPath")} required spellCheck={false} placeholder="/home/you/src/app" data-autofocus />, "the path of a git repository on the machine that runs kodo; your checkout is never touched")}
      {field("title", "Title", <input {...inputProps("title")} required maxLength={200} placeholder="Add slugify" />)}
      {field("prompt", "What should the agent do?", <textarea {...inputProps("prompt")} required rows={5} placeholder="Add a function slugify(text) in src/slugify.js and a test for it" />)}
      <fieldset className="field">
        <legend>Plan approval</legend>
        <label className="choice">
          <input type="radio" name={`${id}-approval`} checked={form.planApproval === "manual"} onChange={() => setForm((current) => ({ ...current, planApproval: "manual" }))} />
          I approve the plan before the build (recommended)
        </label>
        <label className="choice">
          <input type="radio" name={`${id}-approval`} checked={form.planApproval === "auto"} onChange={() => setForm((current) => ({ ...current, planApproval: "auto" }))} />
          Approve it automatically
        </label>
      </fieldset>
      <div className="field-row">
        {field("verifyTarget", "Verify with tests (optional)", <input {...inputProps("verifyTarget", "verify.target")} spellCheck={false} placeholder="tests/ or test/slugify.test.js" />, "a test file or folder inside the repository's test roots", "verify.target")}
        {field(
          "runner",
          "Test runner",
          <select {...inputProps("runner", "verify.runner")} disabled={form.verifyTarget.trim() === ""}>
            <option value="">from the repository</option>
            {TestRunner.options.map((runner) => (
              <option key={runner} value={runner}>
                {runner}
              </option>
            ))}
          </select>,
          undefined,
          "verify.runner",
        )}
        {field("maxAttempts", "Build attempts", <input {...inputProps("maxAttempts", "verify.maxAttempts")} type="number" min={1} max={10} disabled={form.verifyTarget.trim() === ""} />, undefined, "verify.maxAttempts")}
      </div>
      <details className="advanced">
        <summary>More options</summary>
        <div className="field-row">
          {field("baseRef", "Base ref", <input {...inputProps("baseRef")} spellCheck={false} />, "the commit the worktree starts from")}
          {field("approvalTimeoutSeconds", "Ask deadline (s)", <input {...inputProps("approvalTimeoutSeconds")} type="number" min={1} placeholder="server default" />, "how long an agent's ask waits for a person")}
        </div>
        <div className="field-row">
          {field("maxCostUsd", "Budget (USD)", <input {...inputProps("maxCostUsd", "budget.maxCostUsd")} type="number" min={0} step="0.01" placeholder="no limit" />, undefined, "budget.maxCostUsd")}
          {field("maxTokens", "Budget (tokens)", <input {...inputProps("maxTokens", "budget.maxTokens")} type="number" min={1} placeholder="no limit" />, undefined, "budget.maxTokens")}
        </div>
        {field(
          "policy",
          "Task policy (JSON)",
          <textarea {...inputProps("policy")} rows={4} spellCheck={false} className="mono" placeholder='{"version": 1, "rules": [{"id": "ask-bash", "tool": "bash", "action": "run", "effect": "ask"}]}' />,
          "the task's own policy layer over the repository's (docs/policy.md); e.g. ask a person before every bash command",
        )}
      </details>
      {failure !== undefined ? (
        <p className="state state-error" role="alert">
          {failure}
        </p>
      ) : null}
      <footer className="dialog-actions">
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => void submit(false)}>
          Create
        </button>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Working…" : "Create and run"}
        </button>
      </footer>
    </form>
  );
}
