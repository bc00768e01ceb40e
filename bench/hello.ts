/** The "limit" server of figure 2: a plain Bun.serve hello world, JSON like GET /ads/:id. Prints its port. */
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ hello: "world" }) });
console.log(`port ${server.port}`);
