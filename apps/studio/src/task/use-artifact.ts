/** The text of one of a run's artifacts, read again when its recorded digest changes. */
import { useEffect, useState } from "react";
import { describeFailure } from "../api/client.js";
import { useKodo } from "../state/kodo.js";

export type ArtifactText = { phase: "loading" } | { phase: "ready"; text: string } | { phase: "error"; error: string };

export function useArtifactText(runId: string, name: string | undefined, sha256: string | undefined): ArtifactText | undefined {
  const { api } = useKodo();
  const [state, setState] = useState<ArtifactText | undefined>();
  useEffect(() => {
    if (name === undefined) {
      setState(undefined);
      return;
    }
    let current = true;
    setState((previous) => (previous?.phase === "ready" ? previous : { phase: "loading" }));
    api.artifactText(runId, name).then(
      (text) => current && setState({ phase: "ready", text }),
      (error: unknown) => current && setState({ phase: "error", error: describeFailure(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, runId, name, sha256]);
  return state;
}
