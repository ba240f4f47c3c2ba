// The suanpan dashboard: sign in with a token, then the hub's overview, queue, jobs, tenants and
// nodes, each page polling the same API the CLI uses (hash routes: #/queue, #/jobs/12, ...).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, setToken, token, type Whoami } from "./api";
import { lang, setLang, t } from "./i18n";
import { JobPage } from "./job";
import { NodesPage } from "./nodes";
import { beginSignIn, finishSignIn, type OidcConfig } from "./oidc";
import { OverviewPage } from "./overview";
import { QueuePage } from "./queue";
import { ReportPage } from "./report";
import { signal } from "./signal";
import "./style.css";
import { TenantsPage } from "./tenants";

const who = signal<Whoami | null>(null);

function useHash(): [string, URLSearchParams] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  const raw = hash.replace(/^#/, "") || "/";
  const [path, query] = raw.split("?");
  return [path, new URLSearchParams(query ?? "")];
}

function SignIn(props: { error: string }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(props.error);
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  useEffect(() => {
    get<{ oidc: OidcConfig | null }>("/v1/auth/config", "")
      .then((c) => setOidc(c.oidc))
      .catch(() => setOidc(null));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const w = await get<Whoami>("/v1/whoami", value.trim());
      setToken(value.trim());
      who.set(w);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <form class="signin" onSubmit={submit}>
      <LangSwitch />
      <h1>suanpan 算盘</h1>
      <p>{t("Sign in with a suanpan token (suanpan token create, or the one suanpan dev printed).")}</p>
      <input type="password" name="token" placeholder={t("Token")} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autofocus />
      <button type="submit">{t("Sign in")}</button>
      {oidc && (
        <>
          <p class="or">{t("or")}</p>
          <button type="button" name="oidc" onClick={() => beginSignIn(oidc).catch((err) => setError(String(err instanceof Error ? err.message : err)))}>
            {t("Sign in with")} {new URL(oidc.issuer).host}
          </button>
        </>
      )}
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}

function LangSwitch() {
  return (
    <select value={lang.get()} onChange={(e) => setLang((e.target as HTMLSelectElement).value as "en" | "zh-CN")} aria-label={t("Language")} id="lang">
      <option value="en">English</option>
      <option value="zh-CN">中文</option>
    </select>
  );
}

function App() {
  const w = who.use();
  lang.use();
  const [path, query] = useHash();
  const [error, setError] = useState("");
  const [checking, setChecking] = useState(!!token());
  useEffect(() => {
    const out = () => {
      setToken("");
      who.set(null);
      setError("the token was refused (revoked or expired): sign in again");
    };
    window.addEventListener("suanpan:signed-out", out);
    // Back from the identity provider (?code=...): its access token is the bearer from now on.
    const back = new URLSearchParams(location.search).has("code") || new URLSearchParams(location.search).has("error");
    if (back) {
      setChecking(true);
      finishSignIn()
        .then((access) => {
          if (!access) return;
          return get<Whoami>("/v1/whoami", access).then((x) => {
            setToken(access);
            who.set(x);
          });
        })
        .catch((err) => setError(err instanceof Error ? err.message : String(err)))
        .finally(() => setChecking(false));
    } else if (token() && !who.get()) {
      get<Whoami>("/v1/whoami")
        .then((x) => who.set(x))
        .catch(() => setToken(""))
        .finally(() => setChecking(false));
    }
    return () => window.removeEventListener("suanpan:signed-out", out);
  }, []);
  if (!w) return checking ? null : <SignIn error={error} />;
  const admin = w.role === "admin";
  const tenantRole = !["admin", "partner", "agent"].includes(w.role);
  const nav: [string, string][] = [
    ["/", t("Overview")],
    ["/queue", t("Queue")],
    ...(w.role !== "partner" ? [["/tenants", admin ? t("Tenants") : t("My tenant")] as [string, string]] : []),
    ["/nodes", t("Nodes")],
    ["/report", t("Reports")],
  ];
  let page;
  const job = path.match(/^\/jobs\/(\d+)$/);
  if (job) page = <JobPage id={job[1]} role={w.role} />;
  else if (path === "/queue") page = <QueuePage query={query} role={w.role} scope={w.scope} />;
  else if (path === "/tenants") page = <TenantsPage query={query} />;
  else if (path === "/nodes") page = <NodesPage query={query} />;
  else if (path === "/report") page = <ReportPage />;
  else page = <OverviewPage />;
  return (
    <>
      <header>
        <a class="brand" href="#/">
          suanpan <span>算盘</span>
        </a>
        <nav>
          {nav.map(([href, label]) => (
            <a href={`#${href}`} class={path === href || (href === "/queue" && job) ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" id="who">
          {w.token} · {t(w.role)}
          {tenantRole || w.role === "partner" ? ` · ${w.scope}` : ""}
        </span>
        <span class="tz" title={t("Times are shown in this time zone")}>
          {Intl.DateTimeFormat().resolvedOptions().timeZone}
        </span>
        <LangSwitch />
        <button
          class="link"
          onClick={() => {
            setToken("");
            who.set(null);
          }}
        >
          {t("Sign out")}
        </button>
      </header>
      <main>{page}</main>
    </>
  );
}

document.documentElement.lang = lang.get();
render(<App />, document.getElementById("app")!);
