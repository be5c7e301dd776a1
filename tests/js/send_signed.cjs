// Sends webhook bodies to a URL signed by the standardwebhooks library (a sender nobody on
// this project wrote). Usage: node send_signed.cjs URL SECRET FILE...
// Prints one line per file: "<status> <body>". Exits 1 on a network error.
const fs = require("fs");
const crypto = require("crypto");
const { Webhook } = require("standardwebhooks");

async function main() {
  const [url, secret, ...files] = process.argv.slice(2);
  const wh = new Webhook(secret);
  for (const file of files) {
    const body = fs.readFileSync(file, "utf8");
    const id = "msg_" + crypto.randomBytes(12).toString("hex");
    const now = new Date();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": wh.sign(id, now, body),
      },
      body,
    });
    console.log(`${res.status} ${await res.text()}`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
