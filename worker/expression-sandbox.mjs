// The JSONata sandbox process (worker/expressions.ts forks it with a small heap). Plain JavaScript on purpose:
// it runs on bare `node` under every runner (tsx, vitest, a bundle), and it has nothing to type.
// It evaluates one expression at a time; the parent kills it when the deadline passes, so a built-in stuck in
// native code ($match with a catastrophic regex) or a memory bomb can take down nothing but this process.
import jsonata from "jsonata";

const answer = (message) => process.send(message);
// The parent went away (even SIGKILLed): nothing to answer to.
process.on("disconnect", () => process.exit(0));
// Warm up the parser and evaluator (a cold first evaluation costs hundreds of milliseconds on a busy machine),
// then say so: the parent starts counting an expression's time only from here.
await jsonata(`$count(items[x > 0].($string(x) & "-")) > 0 and $match("ab", /b/).match = "b"`)
  .evaluate({ items: [{ x: 1 }] })
  .catch(() => {});
answer({ ready: true });

process.on("message", async ({ id, expression, context, limits }) => {
  let compiled;
  try {
    compiled = jsonata(expression, { timeout: limits.timeoutMs, stack: limits.stack, sequence: limits.sequence });
  } catch (error) {
    return answer({ id, ok: false, kind: "syntax", message: messageOf(error) });
  }
  let value;
  try {
    value = await compiled.evaluate(context);
  } catch (error) {
    // D1012: JSONata's own time check fired (between steps); reported like a stopped sandbox.
    const kind = error && error.code === "D1012" ? "timeout" : "runtime";
    return answer({ id, ok: false, kind, message: messageOf(error) });
  }
  // JSONata functions are JS functions (built-ins) or lambda objects (`function($x) { … }`).
  if (typeof value === "function" || value?._jsonata_lambda || value?._jsonata_function) return answer({ id, ok: false, kind: "function" });
  // Refused before serialising when it is plainly too big (a 20 MB string costs nothing to measure).
  if (atLeast(value, limits.outputBytes) > limits.outputBytes) return answer({ id, ok: false, kind: "size" });
  let json;
  try {
    // A step output is plain JSON: the round trip drops JSONata's internal markers; `undefined` is null.
    json = value === undefined ? "null" : (JSON.stringify(value) ?? "null");
  } catch (error) {
    return answer({ id, ok: false, kind: "runtime", message: messageOf(error) });
  }
  if (Buffer.byteLength(json) > limits.outputBytes) return answer({ id, ok: false, kind: "size" });
  answer({ id, ok: true, json });
});

/** A lower bound of the value's JSON size, counted until it passes `limit`. */
function atLeast(value, limit) {
  let size = 0;
  const stack = [value];
  while (stack.length && size <= limit) {
    const item = stack.pop();
    if (typeof item === "string") size += item.length + 2;
    else if (Array.isArray(item)) {
      size += item.length + 1; // a comma per item at least
      for (let i = 0; i < item.length && size <= limit; i++) stack.push(item[i]);
    } else if (item && typeof item === "object") {
      for (const key of Object.keys(item)) {
        if (size > limit) break;
        size += key.length + 4;
        stack.push(item[key]);
      }
    } else size += 1;
  }
  return size;
}

function messageOf(error) {
  if (error instanceof Error) return error.message || error.name;
  // JSONata throws plain objects: { code, message, position, token }.
  if (error && typeof error === "object" && typeof error.message === "string") return error.message;
  return String(error);
}
