// The HTTP API as the console calls it: JSON in and out, the id token on every call,
// renewed once with the refresh token (POST /auth/refresh) when the API answers 401.
// Tokens live in sessionStorage: a tab's sign-in ends with the tab.

const TOKENS_KEY = "sluice.tokens";

/** An answer of the API other than 2xx, with its error shape's code and message. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The absolute URL of an API path: the page's <base> is where the API is mounted. */
export function apiUrl(path) {
  return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

export const tokens = {
  get() {
    const saved = sessionStorage.getItem(TOKENS_KEY);
    return saved ? JSON.parse(saved) : null;
  },
  save(value) {
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(TOKENS_KEY);
  },
};

/** The user name inside the id token (its claims are not checked here: the API does). */
export function userName() {
  const saved = tokens.get();
  if (!saved) return null;
  try {
    const claims = JSON.parse(atob(saved.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return claims["cognito:username"] || claims.username || claims.sub;
  } catch {
    return null;
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status says it all.
  }
  const error = body && (body.error || body);
  const message = (error && error.message) || `HTTP ${response.status} ${response.statusText}`;
  return new ApiError(response.status, error && error.code, message, error && error.details);
}

async function send(method, path, body, idToken) {
  const headers = {};
  if (idToken) headers.Authorization = `Bearer ${idToken}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(apiUrl(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Sign in with a user's password; keeps the tokens. */
export async function signIn(username, password) {
  const response = await send("POST", "/auth/token", { username, password });
  if (!response.ok) throw await errorOf(response);
  tokens.save(await response.json());
}

async function renew() {
  const saved = tokens.get();
  if (!saved || !saved.refresh_token) return false;
  const response = await send("POST", "/auth/refresh", { refresh_token: saved.refresh_token });
  if (!response.ok) return false;
  const renewed = await response.json();
  // Cognito's refresh answers no new refresh token; keep the one we have.
  tokens.save({ ...saved, ...renewed, refresh_token: renewed.refresh_token || saved.refresh_token });
  return true;
}

/** Call the API; the parsed JSON answer (null for 204), or an ApiError. A 401 that a
 * renewal cannot cure signs the user out and sends them to the sign-in page. */
export async function api(method, path, body) {
  let response = await send(method, path, body, tokens.get()?.id_token);
  if (response.status === 401 && (await renew())) {
    response = await send(method, path, body, tokens.get()?.id_token);
  }
  if (response.status === 401) {
    tokens.clear();
    location.hash = "#/signin";
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

/** A path segment, percent-encoded (column names have spaces and slashes). */
export const seg = (value) => encodeURIComponent(value);
