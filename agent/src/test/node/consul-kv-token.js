// The npm "consul" client against a weft agent with ACLs: kv.set/kv.get with a token, then a refused write
// without one. Usage: node consul-kv-token.js HOST PORT TOKEN. Prints one line per step; exits non-zero on failure.
const Consul = require("consul");

const [host, port, token] = process.argv.slice(2);

async function main() {
  const withToken = new Consul({ host, port: Number(port), defaults: { token } });
  const ok = await withToken.kv.set("npm/hello", "world");
  if (ok !== true) throw new Error("kv.set answered " + JSON.stringify(ok));
  const got = await withToken.kv.get("npm/hello");
  if (!got || got.Value !== "world") throw new Error("kv.get answered " + JSON.stringify(got));
  console.log("SET-GET ok");
  const keys = await withToken.kv.keys("npm/");
  console.log("KEYS " + JSON.stringify(keys));
  const anonymous = new Consul({ host, port: Number(port) });
  try {
    await anonymous.kv.set("npm/hello", "anonymous");
    console.log("ANONYMOUS-WRITE-ACCEPTED");
    process.exit(3);
  } catch (e) {
    console.log("DENIED " + (e.statusCode || (e.response && e.response.statusCode) || "") + " " + e.message);
  }
}

main().catch((e) => {
  console.error("FAIL " + (e.statusCode || "") + " " + e.message);
  process.exit(1);
});
