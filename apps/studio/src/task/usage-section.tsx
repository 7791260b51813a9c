/** Tokens and cost as the ledger recorded them: the run's calls, and the task's totals over all runs. */
import type { ReactNode } from "react";
import type { Run, Task } from "@kodo/contracts";
import { cost, duration, tokens } from "../lib/format.js";

export function UsageSection(props: { task: Task; run: Run }): ReactNode {
  const { run, task } = props;
  const usage = run.usage;
  const budget = task.budget;
  return (
    <section className="section" aria-labelledby="usage-title">
      <h2 id="usage-title">Tokens and cost</h2>
      <dl className="stats">
        <div>
          <dt>input</dt>
          <dd>{tokens(usage.tokensInput)}</dd>
        </div>
        <div>
          <dt>output</dt>
          <dd>{tokens(usage.tokensOutput)}</dd>
        </div>
        <div>
          <dt>reasoning</dt>
          <dd>{tokens(usage.tokensReasoning)}</dd>
        </div>
        <div>
          <dt>cache read / write</dt>
          <dd>
            {tokens(usage.tokensCacheRead)} / {tokens(usage.tokensCacheWrite)}
          </dd>
        </div>
        <div>
          <dt>cost</dt>
          <dd>{cost(usage.costUsd)}</dd>
        </div>
        <div>
          <dt>model calls</dt>
          <dd>{usage.calls}</dd>
        </div>
      </dl>
      {task.usage.calls !== usage.calls ? (
        <p className="muted">
          All runs of the task: {tokens(task.usage.tokensInput + task.usage.tokensOutput + task.usage.tokensReasoning)} tokens, {cost(task.usage.costUsd)}.
        </p>
      ) : null}
      {budget !== null ? (
        <p className="muted">
          Budget:{" "}
          {[
            budget.maxTokens !== undefined ? `${tokens(budget.maxTokens)} tokens` : undefined,
            budget.maxCostUsd !== undefined ? cost(budget.maxCostUsd) : undefined,
            budget.maxWallSeconds !== undefined ? `${budget.maxWallSeconds} s` : undefined,
            budget.maxBuildAttempts !== undefined ? `${budget.maxBuildAttempts} builds` : undefined,
          ]
            .filter((part) => part !== undefined)
            .join(", ")}
        </p>
      ) : null}
      {run.modelCalls.length > 0 ? (
        <details className="ledger">
          <summary>Ledger ({run.modelCalls.length === 1 ? "1 call" : `${run.modelCalls.length} calls`})</summary>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">step</th>
                  <th scope="col">status</th>
                  <th scope="col">in</th>
                  <th scope="col">out</th>
                  <th scope="col">cost</th>
                  <th scope="col">time</th>
                </tr>
              </thead>
              <tbody>
                {run.modelCalls.map((call) => (
                  <tr key={call.opKey} title={`op_key ${call.opKey}`}>
                    <td>
                      {call.stepId}
                      {call.attempt > 1 ? ` #${call.attempt}` : ""}
                    </td>
                    <td>{call.status}</td>
                    <td>{tokens(call.tokensInput)}</td>
                    <td>{tokens(call.tokensOutput)}</td>
                    <td>{cost(call.costUsd)}</td>
                    <td>{call.durationMs === null ? "–" : duration(call.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
    </section>
  );
}
