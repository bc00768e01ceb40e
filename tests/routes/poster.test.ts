/**
 * The posters' side over HTTP, in-process, on PostgreSQL + Ceph RGW and on the embedded
 * defaults: the public list of accepted ads (JSON against the API document, the page, keyset
 * pages, filters), thumbnails, and the private manage page (withdraw, appeal, wrong tokens, the
 * form token and cross-site refusals, no token in the request log).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { photo } from "../support/fixtures";
import { buildTestApp } from "../support/app";
import { loadContract, type Contract } from "../support/contract";
import { startTestStack, type StackMode } from "../support/stack";
import { loadPosterKeys } from "../../src/domain/poster-keys";
import { thumbnailJpeg } from "../../src/image/thumbnail";
import { decodeImage } from "../../src/image/decode";
import { createLogger } from "../../src/platform/logger";

for (const mode of ["real", "embedded"] as StackMode[]) {
  describe(`posters and the public list (${mode === "real" ? "PostgreSQL + Ceph RGW" : "PGlite + files"})`, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let t: Awaited<ReturnType<typeof buildTestApp>>;
    let contract: Contract;
    const logLines: string[] = [];

    beforeAll(async () => {
      stack = await startTestStack({}, mode);
      const log = createLogger({ level: "info", secrets: [], write: (line: string) => void logLines.push(line) });
      t = await buildTestApp(stack.config, log);
      contract = await loadContract(t.app);
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await stack?.stop();
    });

    const keys = () => loadPosterKeys({ secret: stack.config.manageLinkSecret, dataDir: stack.config.dataDir });
    const call = (path: string, init: RequestInit = {}) => t.app.handle(new Request(`http://localhost${path}`, init));

    /** An ad as the worker leaves it: stored photo, decided, with a thumbnail when accepted. */
    async function ad(state: "pending" | "accepted" | "rejected", opts: { description?: string; category?: string; thumb?: boolean } = {}) {
      const id = Bun.randomUUIDv7();
      const bytes = photo("vehicle-car-rear.jpg");
      const key = `ads/${id}.jpg`;
      await t.storage.put(key, bytes, "image/jpeg");
      let thumbKey: string | null = null;
      if (state === "accepted" && opts.thumb !== false) {
        thumbKey = `thumbs/${id}.jpg`;
        await t.storage.put(thumbKey, thumbnailJpeg((await decodeImage(bytes))!), "image/jpeg");
      }
      await t.sql`insert into ads (id, description, email, image_key, image_content_type, image_bytes, state, category, decided_at, thumb_key)
                  values (${id}, ${opts.description ?? "A grey hatchback"}, 'p@example.com', ${key}, 'image/jpeg', ${bytes.length}, ${state},
                          ${state === "accepted" ? (opts.category ?? "car") : null}, ${state === "pending" ? null : new Date()}, ${thumbKey})`;
      await t.sql`insert into ad_events (ad_id, from_state, to_state, actor, reason) values (${id}, null, 'pending', 'poster', 'submitted')`;
      return id;
    }

    test("GET /ads (JSON): accepted ads only, newest first, filtered, paged by cursor, as documented", async () => {
      const tag = `w${Bun.randomUUIDv7().slice(-8)}`;
      const bus = await ad("accepted", { description: `Blue bus ${tag}`, category: "bus" });
      const car1 = await ad("accepted", { description: `Red car ${tag}` });
      const car2 = await ad("accepted", { description: `Old car ${tag}`, thumb: false });
      await ad("rejected", { description: `Cat ${tag}` });
      await ad("pending", { description: `Pending ${tag}` });
      const res = await contract.checkResponse("GET", "/ads", await call(`/ads?q=${tag}`));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<{ id: string; thumbnail_url: string; url: string }>; next_cursor: string | null };
      expect(body.items.map((i) => i.id)).toEqual([car2, car1, bus]);
      expect(body.items[1]!.thumbnail_url).toBe(`/ads/${car1}/thumb`);
      expect(body.items[0]!.thumbnail_url).toBe(`/ads/${car2}/thumb`); // made on its first request
      expect(body.next_cursor).toBeNull();
      const cars = (await (await call(`/ads?q=${tag}&category=car`)).json()) as { items: Array<{ id: string }> };
      expect(cars.items.map((i) => i.id)).toEqual([car2, car1]);
      const p1 = (await (await call(`/ads?q=${tag}&limit=2`)).json()) as { items: Array<{ id: string }>; next_cursor: string };
      expect(p1.items.map((i) => i.id)).toEqual([car2, car1]);
      const p2 = (await (await call(`/ads?q=${tag}&limit=2&cursor=${p1.next_cursor}`)).json()) as { items: Array<{ id: string }>; next_cursor: string | null };
      expect(p2.items.map((i) => i.id)).toEqual([bus]);
      expect(p2.next_cursor).toBeNull();
      expect((await contract.checkResponse("GET", "/ads", await call("/ads?cursor=bm9wZQ"))).status).toBe(422);
      expect((await call("/ads?limit=0")).status).toBe(422);
      expect((await call("/ads?limit=101")).status).toBe(422);
    });

    test("GET /ads for a browser: the page with filters, in Persian on request, the description isolated", async () => {
      const tag = `p${Bun.randomUUIDv7().slice(-8)}`;
      await ad("accepted", { description: `پژو ۲۰۶ ${tag}` });
      const res = await call(`/ads?q=${tag}`, { headers: { accept: "text/html", "accept-language": "fa" } });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<html lang="fa" dir="rtl"');
      expect(html).toContain("وسایل نقلیه برای فروش");
      expect(html).toContain(`dir="auto">پژو ۲۰۶ ${tag}</span>`);
      expect(html).toContain("خودرو");
    });

    test("GET /ads/{id}/thumb: made on the first request and stored; an ETag, 304 on a match, 404 once the ad is not accepted", async () => {
      const id = await ad("accepted", { thumb: false });
      const res = await contract.checkResponse("GET", "/ads/{id}/thumb", await call(`/ads/${id}/thumb`));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const etag = res.headers.get("etag")!;
      expect((await decodeImage(new Uint8Array(await res.arrayBuffer())))!.width).toBeLessThanOrEqual(320);
      expect((await t.sql`select thumb_key from ads where id = ${id}`)[0]!.thumb_key).toBe(`thumbs/${id}.jpg`);
      expect(await t.storage.get(`thumbs/${id}.jpg`)).not.toBeNull();
      expect((await call(`/ads/${id}/thumb`, { headers: { "if-none-match": etag } })).status).toBe(304);
      await t.sql`update ads set state = 'rejected' where id = ${id}`;
      expect((await contract.checkResponse("GET", "/ads/{id}/thumb", await call(`/ads/${id}/thumb`, { headers: { "if-none-match": etag } }))).status).toBe(404);
    });

    test("the manage page: a poster withdraws their ad; it is gone from the list and storage; a second withdraw says so", async () => {
      const id = await ad("accepted");
      const token = keys().manageToken(id);
      const page = await call(`/manage/${token}`, { headers: { accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(page.headers.get("cache-control")).toBe("no-store");
      const html = await page.text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      // Without confirming, or without the form token, or cross-site: nothing happens.
      expect((await call(`/manage/${token}/withdraw`, { method: "POST", body: new URLSearchParams({ _csrf: csrf }) })).status).toBe(422);
      expect((await call(`/manage/${token}/withdraw`, { method: "POST", body: new URLSearchParams({ confirm: "yes" }) })).status).toBe(403);
      expect((await call(`/manage/${token}/withdraw`, { method: "POST", headers: { "sec-fetch-site": "cross-site" }, body: new URLSearchParams({ _csrf: csrf, confirm: "yes" }) })).status).toBe(403);
      expect((await t.sql`select state from ads where id = ${id}`)[0]!.state).toBe("accepted");
      const done = await call(`/manage/${token}/withdraw`, { method: "POST", body: new URLSearchParams({ _csrf: csrf, confirm: "yes" }) });
      expect(done.status).toBe(303);
      expect(done.headers.get("location")).toBe(`/manage/${token}?done=withdrawn`);
      expect((await (await call(`/manage/${token}?done=withdrawn`)).text())).toContain("Your ad was taken down and its photo deleted.");
      expect((await t.objectKeys()).filter((k) => k.includes(id))).toEqual([]);
      expect((await call(`/ads/${id}`)).status).toBe(200); // the status stays readable...
      expect(((await (await call(`/ads/${id}`)).json()) as { description?: string }).description).toBeUndefined(); // ...with nothing of the ad
      const list = (await (await call(`/ads?limit=100`)).json()) as { items: Array<{ id: string }> };
      expect(list.items.map((i) => i.id)).not.toContain(id);
      const again = await call(`/manage/${token}/withdraw`, { method: "POST", body: new URLSearchParams({ _csrf: csrf, confirm: "yes" }) });
      expect(again.headers.get("location")).toBe(`/manage/${token}?done=alreadyWithdrawn`);
    });

    test("the manage page: one appeal of a rejection, with a note, shown to operators' queue as needing review", async () => {
      const id = await ad("rejected");
      const token = keys().manageToken(id);
      const html = await (await call(`/manage/${token}`, { headers: { accept: "text/html", "accept-language": "fa" } })).text();
      expect(html).toContain("درخواست بررسی دوباره");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      expect((await call(`/manage/${token}/appeal`, { method: "POST", body: new URLSearchParams({ _csrf: csrf, note: "" }) })).status).toBe(422);
      const r = await call(`/manage/${token}/appeal`, { method: "POST", body: new URLSearchParams({ _csrf: csrf, note: "The car is in the photo, just dark" }) });
      expect(r.headers.get("location")).toBe(`/manage/${token}?done=appealed`);
      expect((await t.sql`select state, appeal_note from ads where id = ${id}`)[0]).toEqual({ state: "review", appeal_note: "The car is in the photo, just dark" });
      const second = await call(`/manage/${token}/appeal`, { method: "POST", body: new URLSearchParams({ _csrf: csrf, note: "again" }) });
      expect(second.headers.get("location")).toBe(`/manage/${token}?done=alreadyAppealed`);
    });

    test("a wrong or altered token is a plain 404 and changes nothing; tokens never reach the log", async () => {
      const id = await ad("accepted");
      const token = keys().manageToken(id);
      const altered = token.slice(0, 30) + (token[30] === "A" ? "B" : "A") + token.slice(31);
      for (const path of [`/manage/${altered}`, "/manage/nope", `/manage/${altered}/withdraw`]) {
        const res = await call(path, { method: path.endsWith("withdraw") ? "POST" : "GET", body: path.endsWith("withdraw") ? new URLSearchParams({ confirm: "yes" }) : undefined });
        expect(res.status).toBe(404);
      }
      expect((await t.sql`select state from ads where id = ${id}`)[0]!.state).toBe("accepted");
      for (let i = 0; i < 100 && !logLines.some((l) => l.includes('"path":"/manage/')); i++) await Bun.sleep(20);
      const logged = logLines.join("\n");
      expect(logged).toContain('"path":"/manage/…"');
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(altered);
    });
  });
}
