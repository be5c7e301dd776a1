// Verifies a delivery that hookline signed, with the standardwebhooks library (code nobody on
// this project wrote). Usage: node verify_delivery.cjs capture.json
// capture.json: {"secret": "whsec_...", "headers": {...}, "body": "<raw body>"}
// Exits 0 when the signature verifies and a tampered copy of the body does not.
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const capture = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const wh = new Webhook(capture.secret);
const payload = wh.verify(capture.body, capture.headers);
if (!payload || typeof payload.event !== "string") {
  console.error("verified, but the body is not an event");
  process.exit(1);
}
let tamperedAccepted = true;
try {
  wh.verify(capture.body + " ", capture.headers);
} catch (e) {
  tamperedAccepted = false;
}
if (tamperedAccepted) {
  console.error("a tampered body verified: the signature check is broken");
  process.exit(1);
}
console.log(`verified ${payload.event} ${capture.headers["webhook-id"]}`);
