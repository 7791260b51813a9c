/**
 * The page: without a token, how to get the link; with one, the board, a task, or the approvals
 * inbox, under one header, all fed by one event stream.
 */
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { Identity } from "./api/actor.js";
import { KodoApi } from "./api/client.js";
import { LiveEvents } from "./api/live-events.js";
import { forgetToken, saveToken } from "./api/token.js";
import { ApprovalsPage } from "./approvals/approvals-page.js";
import { BoardPage } from "./board/board-page.js";
import { CreateTaskDialog } from "./board/create-task-dialog.js";
import { followLink, navigate, useRoute } from "./lib/router.js";
import { ApprovalsModel } from "./state/approvals.js";
import { BoardModel } from "./state/board.js";
import { KodoContext, useKodo, type Kodo } from "./state/kodo.js";
import { useStore } from "./state/store.js";
import { TaskPage } from "./task/task-page.js";
import { IdentityControl } from "./identity-control.js";
import { NoToken } from "./no-token.js";
import { installTestHooks } from "./test-hooks.js";

export function App(props: { initialToken: string | undefined }): ReactNode {
  const [token, setToken] = useState(props.initialToken);
  const [refused, setRefused] = useState(false);
  const onUnauthorized = useCallback(() => {
    forgetToken();
    setRefused(true);
    setToken(undefined);
  }, []);
  if (token === undefined) {
    return (
      <NoToken
        refused={refused}
        onToken={(value) => {
          saveToken(value);
          setRefused(false);
          setToken(value);
        }}
      />
    );
  }
  return <Connected key={token} token={token} onUnauthorized={onUnauthorized} />;
}

function Connected(props: { token: string; onUnauthorized: () => void }): ReactNode {
  const [kodo] = useState<Kodo>(() => {
    const identity = new Identity();
    const api = new KodoApi(props.token, props.onUnauthorized, () => identity.name.value);
    const live = new LiveEvents(() => api.headers());
    return { api, live, board: new BoardModel(api, live), approvals: new ApprovalsModel(api, live), identity };
  });
  const { onUnauthorized } = props;
  useEffect(() => {
    const stopWatching = kodo.live.onState(() => {
      if (kodo.live.state === "unauthorized") onUnauthorized();
    });
    kodo.live.start();
    void kodo.board.load();
    void kodo.approvals.load();
    const removeHooks = installTestHooks(kodo);
    const stopIdentity = kodo.identity.watch();
    return () => {
      stopWatching();
      stopIdentity();
      removeHooks();
      kodo.live.stop();
    };
  }, [kodo, onUnauthorized]);
  return (
    <KodoContext.Provider value={kodo}>
      <Shell />
    </KodoContext.Provider>
  );
}

function Shell(): ReactNode {
  const route = useRoute();
  const [creating, setCreating] = useState(false);
  const closeCreate = useCallback(() => setCreating(false), []);
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <Header route={route.page} onCreate={() => setCreating(true)} />
      <main id="content" tabIndex={-1}>
        {route.page === "board" ? <BoardPage onCreate={() => setCreating(true)} /> : null}
        {route.page === "task" ? <TaskPage key={route.taskId} taskId={route.taskId} /> : null}
        {route.page === "approvals" ? <ApprovalsPage /> : null}
        {route.page === "missing" ? <NotFound path={route.path} /> : null}
      </main>
      <CreateTaskDialog
        open={creating}
        onClose={closeCreate}
        onCreated={(task) => {
          setCreating(false);
          navigate(`/tasks/${task.id}`);
        }}
      />
    </>
  );
}

function Header(props: { route: string; onCreate: () => void }): ReactNode {
  const { approvals, live } = useKodo();
  const pending = useStore(approvals.store).pending.length;
  const [state, setState] = useState(live.state);
  useEffect(() => live.onState(() => setState(live.state)), [live]);
  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={followLink}>
        <span className="brand-mark" aria-hidden="true">
          k
        </span>
        kodo <span className="brand-sub">Studio</span>
      </a>
      <nav className="topnav" aria-label="Pages">
        <a href="/" onClick={followLink} aria-current={props.route === "board" ? "page" : undefined}>
          Board
        </a>
        <a href="/approvals" onClick={followLink} aria-current={props.route === "approvals" ? "page" : undefined}>
          Approvals
          {pending > 0 ? (
            <span className="count count-alert" aria-label={`${pending} waiting`}>
              {pending}
            </span>
          ) : null}
        </a>
      </nav>
      <span className={`live live-${state}`} role="status" data-stream={state} title="the event stream from kodo">
        <span className="live-dot" aria-hidden="true" />
        {state === "live" ? "Live" : state === "reconnecting" ? "Reconnecting…" : "Connecting…"}
      </span>
      <IdentityControl />
      <button type="button" className="button primary" onClick={props.onCreate}>
        New task
      </button>
    </header>
  );
}

function NotFound(props: { path: string }): ReactNode {
  return (
    <section className="page narrow">
      <h1>Nothing at {props.path}</h1>
      <p>
        <a href="/" onClick={followLink}>
          Back to the board
        </a>
      </p>
    </section>
  );
}
