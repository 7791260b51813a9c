/**
 * The API token reaches the page in the URL's fragment (`/#token=…`, printed by `kodo serve` and
 * `kodo studio`). A browser never sends the fragment to a server, so no request log holds it.
 * The page takes it, removes it from the address bar and the history entry at once, and keeps it
 * in sessionStorage: this tab only, gone when the tab closes.
 */
const STORAGE_KEY = "kodo.token";
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

/** The token in a fragment such as `#token=abc…` (other fragment parameters are ignored). */
export function tokenFromFragment(hash: string): string | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token")?.trim().toLowerCase();
  return token !== undefined && TOKEN_PATTERN.test(token) ? token : undefined;
}

/** A pasted link (`http://…/#token=…`) or a bare token; undefined when it is neither. */
export function tokenFromInput(text: string): string | undefined {
  const trimmed = text.trim();
  if (TOKEN_PATTERN.test(trimmed.toLowerCase())) return trimmed.toLowerCase();
  const hash = trimmed.indexOf("#");
  return hash === -1 ? undefined : tokenFromFragment(trimmed.slice(hash));
}

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the token lives as long as the page
  }
}

let memoryToken: string | undefined;

/** Takes the token out of the address bar (if there), stores it, and returns the tab's token. */
export function takeToken(): string | undefined {
  const fromFragment = tokenFromFragment(window.location.hash);
  if (window.location.hash !== "") {
    // replaceState: the address with the token is not left in the history either
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  }
  if (fromFragment !== undefined) saveToken(fromFragment);
  return memoryToken ?? storage()?.getItem(STORAGE_KEY) ?? undefined;
}

export function saveToken(token: string): void {
  memoryToken = token;
  storage()?.setItem(STORAGE_KEY, token);
}

export function forgetToken(): void {
  memoryToken = undefined;
  storage()?.removeItem(STORAGE_KEY);
}
