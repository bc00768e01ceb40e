/** A minimal dashboard client over real HTTP, as an operator's browser without JavaScript would act. */

/**
 * Signs in as `name` (by default none: the bootstrap operator `admin`, whose password is
 * ADMIN_PASSWORD); returns the session cookie and the CSRF token the dashboard hands out.
 */
export async function signIn(baseUrl: string, password: string, name = ""): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${baseUrl}/admin/login`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ name, password }),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const page = (await (await fetch(`${baseUrl}/admin`, { headers: { cookie } })).text()).replaceAll("&#34;", '"').replaceAll("&quot;", '"');
  const csrf = /"X-CSRF-Token":"([^"]+)"/.exec(page)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error("no CSRF token on the dashboard");
  return { cookie, csrf };
}

/** POSTs an operator action (form-encoded, same-origin); returns the status. */
export async function act(baseUrl: string, s: { cookie: string; csrf: string }, path: string, fields: Record<string, string>): Promise<number> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams(fields),
    headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
  });
  return res.status;
}

/** Approves an ad as a vehicle (its current category, or "car"). */
export async function approveAgain(baseUrl: string, password: string, adId: string, category?: string): Promise<void> {
  const s = await signIn(baseUrl, password);
  const cat = category ?? "car";
  const status = await act(baseUrl, s, `/admin/ads/${adId}/approve`, { category: cat });
  if (status >= 400) throw new Error(`approve answered ${status}`);
}
