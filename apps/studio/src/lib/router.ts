/**
 * Three places, in the path (the server answers every non-API path with the board):
 * `/` the board, `/tasks/{id}` a task, `/approvals` the inbox. Navigation is pushState.
 */
import { useSyncExternalStore, type MouseEvent } from "react";

export type Route = { page: "board" } | { page: "task"; taskId: string } | { page: "approvals" } | { page: "missing"; path: string };

export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { page: "board" };
  if (pathname === "/approvals") return { page: "approvals" };
  const task = /^\/tasks\/([A-Za-z0-9_-]{1,100})$/.exec(pathname);
  if (task?.[1] !== undefined) return { page: "task", taskId: task[1] };
  return { page: "missing", path: pathname };
}

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, "", path);
  notify();
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname);
  return parseRoute(pathname);
}

/** onClick of an in-app `<a href>`: navigates without a reload, unless the user asked for a new tab. */
export function followLink(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(event.currentTarget.pathname);
}
