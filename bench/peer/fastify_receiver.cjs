// The usual alternative to `hookline receive`: fastify + better-sqlite3, WAL with
// synchronous=FULL, one durable insert per webhook before the 200.
// Usage: node fastify_receiver.cjs PORT DB_PATH
const Fastify = require("fastify");
const Database = require("better-sqlite3");

const [port, dbPath] = process.argv.slice(2);
const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec(`CREATE TABLE IF NOT EXISTS received (
  id INTEGER PRIMARY KEY, dedupe_key TEXT UNIQUE, headers TEXT NOT NULL, body BLOB NOT NULL,
  received_at INTEGER NOT NULL)`);
const insert = db.prepare(
  "INSERT INTO received (dedupe_key, headers, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
const crypto = require("crypto");

const app = Fastify({ bodyLimit: 1 << 20 });
app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => done(null, body));
app.post("/ingest/:source", async (req, reply) => {
  let event;
  try {
    event = JSON.parse(req.body).event;
  } catch (e) {
    return reply.code(400).send({ error: "invalid json" });
  }
  if (typeof event !== "string") return reply.code(400).send({ error: "no event" });
  const key = crypto.createHash("sha256").update(req.body).digest("hex");
  const r = insert.run(key, JSON.stringify(req.headers), req.body, Date.now());
  return { status: r.changes ? "accepted" : "duplicate" };
});
app.listen({ port: Number(port), host: "127.0.0.1" }).then(() => console.log(`listening on http://127.0.0.1:${port}`));
