// Runs after `npm install` / `npm ci`: repairs a known fault of the postgres driver (3.4.x) that a database
// restart can trigger (an outage test of ours hit it). A write deferred with setImmediate can fire after the
// connection closed and null'ed its socket: `socket.write` on null throws from the immediate, where nothing can
// catch it, and the process dies. And the teardown cancels that deferred write without forgetting it, so the
// reconnected connection never flushes a small write again (its queries hang). The repair: a deferred write on
// a closed connection fails its queries with CONNECTION_CLOSED (which every caller retries), and teardown
// forgets the pending write. Idempotent; says so and changes nothing when the driver's code is not as expected.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MARK = "/* studio: closed-socket write guard */";

const repairs = [
  {
    fault: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
    repaired: `  function nextWrite(fn) {\n    ${MARK}\n    if (!socket) {\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
  },
  { fault: "    clearImmediate(nextWriteTimer)\n", repaired: "    clearImmediate(nextWriteTimer), nextWriteTimer = chunk = null\n", all: true },
];

let patched = 0;
for (const build of ["src", "cjs/src", "cf/src"]) {
  const file = path.join(root, "node_modules", "postgres", build, "connection.js");
  if (!fs.existsSync(file)) continue;
  let source = fs.readFileSync(file, "utf8");
  if (source.includes(MARK)) continue;
  if (!repairs.every((r) => source.includes(r.fault))) {
    console.warn(`[patch-postgres] ${path.relative(root, file)} is not the code this repair expects (a newer driver?): left as it is`);
    continue;
  }
  for (const r of repairs) source = r.all ? source.split(r.fault).join(r.repaired) : source.replace(r.fault, r.repaired);
  fs.writeFileSync(file, source);
  patched++;
}
if (patched > 0) console.log(`[patch-postgres] repaired the closed-socket write in ${patched} build(s) of the postgres driver`);
