import { Html, type PropsWithChildren } from "@kitajs/html";
import type { SessionOperator } from "../../admin/auth";
import { OPERATOR_ROLES, type OperatorInfo } from "../../database/operator-repository";
import { LANGS, t, type Lang } from "../../i18n";
import { ColumnHeads, CsrfField, DateTime, Notes } from "./parts";

/** A password shown once, right after it was made (adding an operator, resetting theirs). */
export interface ShownPassword {
  name: string;
  password: string;
}

/** A form that posts one operator action: htmx swaps the page's body, a plain POST redirects back. */
function ActionForm({ url, csrf, children, label }: PropsWithChildren<{ url: string; csrf: string; label: string }>) {
  return (
    <form method="post" action={url} hx-post={url} hx-target="#main" hx-swap="innerHTML" class="inline" aria-label={label}>
      <CsrfField csrf={csrf} />
      {children}
    </form>
  );
}

function Options<T extends string>({ values, selected, label }: { values: readonly T[]; selected?: T; label: (v: T) => string }) {
  return (
    <>
      {values.map((v) => (
        <option value={v} selected={v === selected}>
          {label(v)}
        </option>
      ))}
    </>
  );
}

/** The team: every operator with their role, language, status and last sign-in; add, disable, reset, change role. */
export function OperatorsView(p: { rows: OperatorInfo[]; me: SessionOperator; csrf: string; lang: Lang; flash?: string; error?: string; shown?: ShownPassword }) {
  const { lang, csrf } = p;
  const m = t(lang).admin.operators;
  const c = m.columns;
  const langName = (l: Lang) => m.languages[l];
  return (
    <>
      <h1>{m.heading}</h1>
      <Notes flash={p.flash} error={p.error} />
      {p.shown ? (
        <div class="secret" role="status">
          <p>{m.passwordFor(`<strong><bdi>${Html.escapeHtml(p.shown.name)}</bdi></strong>`)}</p>
          <p>
            <code class="password" dir="ltr" safe>
              {p.shown.password}
            </code>
          </p>
          <p class="muted">{m.passwordNote}</p>
        </div>
      ) : (
        ""
      )}
      <table class="plain operators">
        <ColumnHeads cols={[c.name, c.displayName, c.role, c.language, c.status, c.lastSignIn]} actions={c.actions} />
        <tbody>
          {p.rows.map((o) => {
            const self = o.id === p.me.id;
            const base = `/admin/operators/${o.id}`;
            return (
              <tr id={`operator-${o.id}`} class={o.disabled_at ? "disabled" : undefined}>
                <td>
                  <bdi class="operator-name" safe>
                    {o.name}
                  </bdi>
                  {self ? <span class="muted"> ({m.you})</span> : ""}
                </td>
                <td>
                  <bdi safe>{o.display_name ?? ""}</bdi>
                </td>
                <td>{m.roles[o.role]}</td>
                <td>{langName(o.lang)}</td>
                <td>
                  <span class={o.disabled_at ? "badge badge-rejected" : "badge badge-accepted"}>{o.disabled_at ? m.status.disabled : m.status.active}</span>
                </td>
                <td>{o.last_sign_in_at ? <DateTime at={o.last_sign_in_at} lang={lang} /> : <span class="muted">{m.never}</span>}</td>
                <td>
                  {self ? (
                    ""
                  ) : (
                    <div class="row-actions">
                      <ActionForm url={`${base}/${o.disabled_at ? "enable" : "disable"}`} csrf={csrf} label={o.disabled_at ? m.enable : m.disable}>
                        <button type="submit" class={o.disabled_at ? "small" : "small danger"}>
                          {o.disabled_at ? m.enable : m.disable}
                        </button>
                      </ActionForm>
                      <ActionForm url={`${base}/reset-password`} csrf={csrf} label={m.resetPassword}>
                        <button type="submit" class="small">
                          {m.resetPassword}
                        </button>
                      </ActionForm>
                      <ActionForm url={`${base}/role`} csrf={csrf} label={m.changeRole}>
                        <label for={`role-${o.id}`} class="visually-hidden">
                          {m.role}
                        </label>
                        <select id={`role-${o.id}`} name="role" class="small">
                          <Options values={OPERATOR_ROLES} selected={o.role} label={(r) => m.roles[r]} />
                        </select>{" "}
                        <button type="submit" class="small">
                          {m.changeRole}
                        </button>
                      </ActionForm>
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <section aria-labelledby="add-h">
        <h2 id="add-h">{m.addHeading}</h2>
        <form method="post" action="/admin/operators" hx-post="/admin/operators" hx-target="#main" hx-swap="innerHTML" class="card add-operator">
          <CsrfField csrf={csrf} />
          <label for="op-name">{m.name}</label>
          <input id="op-name" name="name" required maxlength="40" dir="auto" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="op-name-hint" />
          <small id="op-name-hint" class="hint">
            {m.nameHint}
          </small>
          <label for="op-display">{m.displayName}</label>
          <input id="op-display" name="display_name" maxlength="80" dir="auto" autocomplete="off" />
          <label for="op-role">{m.role}</label>
          <select id="op-role" name="role">
            <Options values={OPERATOR_ROLES} selected="operator" label={(r) => m.roles[r]} />
          </select>
          <label for="op-lang">{m.language}</label>
          <select id="op-lang" name="lang">
            <Options values={LANGS} selected={lang} label={langName} />
          </select>
          <button type="submit">{m.add}</button>
        </form>
      </section>
    </>
  );
}

/** The signed-in operator's own page: who they are, and the dashboard's language. */
export function AccountView(p: { me: SessionOperator; csrf: string; lang: Lang; flash?: string; error?: string }) {
  const { lang, me } = p;
  const a = t(lang).admin;
  const m = a.account;
  return (
    <>
      <h1>{m.heading}</h1>
      <Notes flash={p.flash} error={p.error} />
      <dl class="account">
        <dt>{m.name}</dt>
        <dd>
          <bdi class="operator-name" safe>
            {me.name}
          </bdi>
        </dd>
        <dt>{m.role}</dt>
        <dd>{a.operators.roles[me.role]}</dd>
      </dl>
      <form method="post" action="/admin/account" class="card account-form">
        <CsrfField csrf={p.csrf} />
        <label for="acc-display">{m.displayName}</label>
        <input id="acc-display" name="display_name" maxlength="80" dir="auto" value={me.displayName ?? ""} autocomplete="off" />
        <label for="acc-lang">{m.language}</label>
        <select id="acc-lang" name="lang">
          <Options values={LANGS} selected={me.lang} label={(l) => a.operators.languages[l]} />
        </select>
        <button type="submit">{m.save}</button>
      </form>
    </>
  );
}
