// Fixture for the Go nodetest package's own tests.
// Usage: node fixture.mjs lines|env|hang|server [--exit N]
import { parseArgs } from "node:util";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { exit: { type: "string", default: "0" } },
});
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

switch (positionals[0]) {
  case "lines":
    out({ check: "a", ok: true, detail: { n: 1 } });
    process.stdout.write("not json\n");
    out({ check: "b", ok: false, detail: "why" });
    process.stderr.write("to stderr\n");
    process.stdout.write(JSON.stringify({ check: "last", ok: true })); // no trailing newline
    process.exitCode = Number(values.exit);
    break;
  case "env":
    out({ env: process.env.NODE_ENV, extra: process.env.NODETEST_EXTRA ?? null });
    break;
  case "hang":
    out({ hanging: true });
    setInterval(() => {}, 1000);
    break;
  case "server":
    // Behaves like reference-server.mjs: ready line, then runs until stdin closes.
    setTimeout(() => out({ ready: true, port: 1234 }), 50);
    process.stdin.on("end", () => {
      out({ bye: true });
      process.exit(0);
    });
    process.stdin.resume();
    break;
  default:
    process.stderr.write(`unknown mode ${positionals[0]}\n`);
    process.exit(2);
}
