// Sign-in through the hub's OpenID Connect provider, when the server offers it (GET
// /v1/auth/config, from `suanpan server --oidc-client-id`): the authorization code flow with PKCE
// (RFC 7636, S256) of a public client, as a single-page app does it. The browser goes to the
// provider's login page, comes back to this page with ?code&state, and trades the code and the
// verifier only it knows for an access token at the provider's token endpoint (CORS). That token
// is then the bearer, as a suanpan token is: the server checks its signature, issuer, audience
// and expiry (control/oidc.h), and when it expires the API answers 401 and the page signs out.
//
// Nothing of this is a secret: the client is public, the verifier lives in sessionStorage for
// the one round trip, and the state binds the answer to this browser's request.

export type OidcConfig = { issuer: string; client_id: string; scope: string };

const FLOW_KEY = "suanpan.oidc";

type Flow = { state: string; verifier: string; client_id: string; issuer: string; token_endpoint: string; hash: string };

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

// Where the provider sends the browser back: this page, without query or hash. It is the
// redirect URI to register for the client at the provider (https://hub.example.com/).
export function redirectUri(): string {
  return location.origin + location.pathname;
}

export async function beginSignIn(cfg: OidcConfig): Promise<void> {
  if (!crypto.subtle) {
    throw new Error("OIDC sign-in needs the dashboard on https (or localhost): this browser offers no crypto.subtle here");
  }
  const base = cfg.issuer.replace(/\/+$/, "");
  const r = await fetch(`${base}/.well-known/openid-configuration`);
  if (!r.ok) throw new Error(`the identity provider's discovery document answered HTTP ${r.status}`);
  const d = await r.json();
  if (!d.authorization_endpoint || !d.token_endpoint) {
    throw new Error(`${base}/.well-known/openid-configuration names no authorization or token endpoint`);
  }
  const verifier = random(32);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const flow: Flow = { state: random(16), verifier, client_id: cfg.client_id, issuer: cfg.issuer, token_endpoint: d.token_endpoint, hash: location.hash };
  sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
  const u = new URL(d.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: redirectUri(),
    scope: cfg.scope,
    state: flow.state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  })) {
    u.searchParams.set(k, v);
  }
  location.assign(u.toString());
}

// On the way back from the provider: the access token, or null when this page load is not a
// return from it. Throws with what went wrong (refused, state mismatch, token endpoint error).
export async function finishSignIn(): Promise<string | null> {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return null;
  const flow: Flow | null = JSON.parse(sessionStorage.getItem(FLOW_KEY) ?? "null");
  sessionStorage.removeItem(FLOW_KEY);
  history.replaceState(null, "", location.pathname + (flow?.hash ?? ""));
  if (q.has("error")) {
    throw new Error(`the identity provider refused the sign-in: ${q.get("error")}${q.get("error_description") ? ` (${q.get("error_description")})` : ""}`);
  }
  if (!flow || q.get("state") !== flow.state) {
    throw new Error("sign-in: the provider's answer does not match a request from this browser tab; sign in again");
  }
  // RFC 9207: a provider that names itself must be the one asked.
  if (q.has("iss") && q.get("iss") !== flow.issuer) {
    throw new Error(`sign-in: the answer comes from '${q.get("iss")}', not the issuer '${flow.issuer}'`);
  }
  const r = await fetch(flow.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: q.get("code") ?? "",
      redirect_uri: redirectUri(),
      client_id: flow.client_id,
      code_verifier: flow.verifier,
    }),
  });
  const body = await r.json().catch(() => null);
  if (!r.ok || typeof body?.access_token !== "string") {
    throw new Error(`sign-in: the provider's token endpoint answered HTTP ${r.status}${body?.error ? `: ${body.error}${body.error_description ? ` (${body.error_description})` : ""}` : ""}`);
  }
  return body.access_token;
}
