// Sends webhook bodies to a URL as a sender hosted on Svix does: signed by the npm svix
// library's own Webhook class, with svix-id, svix-timestamp and svix-signature headers.
// Usage: node send_svix.cjs URL SECRET MSG_ID FILE...  (every file is sent with MSG_ID)
// Prints one line per file: "<status> <body>". Exits 1 on a network error.
const fs = require("fs");
const { Webhook } = require("svix");

async function main() {
  const [url, secret, msgId, ...files] = process.argv.slice(2);
  const wh = new Webhook(secret);
  for (const file of files) {
    const body = fs.readFileSync(file, "utf8");
    const now = new Date();
    const headers = {
      "svix-id": msgId,
      "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
      "svix-signature": wh.sign(msgId, now, body),
    };
    // svix's own verifier reads the headers by their names: this throws unless they are the
    // ones a Svix-hosted sender sends.
    wh.verify(body, headers);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    console.log(`${res.status} ${await res.text()}`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
