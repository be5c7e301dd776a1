// JavaScript's own answers for hookline's JSON writer: JSON.stringify of doubles given by
// their bits, and of documents JSON.parse reads. Usage: node stringify_numbers.cjs in.json
// in.json: {"bits": ["3ff8000000000000", ...], "documents": ["<JSON text>", ...]}
// Prints {"numbers": [JSON.stringify(double)...],
//         "pretty": [JSON.stringify(JSON.parse(doc), null, 2)...],
//         "compact": [JSON.stringify(JSON.parse(doc))...]}
const fs = require("fs");

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const view = new DataView(new ArrayBuffer(8));
const numbers = input.bits.map((hex) => {
  view.setBigUint64(0, BigInt("0x" + hex));
  return JSON.stringify(view.getFloat64(0));
});
const parsed = input.documents.map((text) => JSON.parse(text));
process.stdout.write(
  JSON.stringify({
    numbers,
    pretty: parsed.map((v) => JSON.stringify(v, null, 2)),
    compact: parsed.map((v) => JSON.stringify(v)),
  }),
);
