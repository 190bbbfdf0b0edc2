/**
 * The services npm start brings along are tethered to it: they stop when it closes the tether, and also
 * when it dies without a word (SIGKILL), which used to leave redis-server running with parent PID 1.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnTethered } from "../../scripts/embedded-services.js";
import { leftovers, processesMentioning, repoRoot } from "./support.js";

const folder = mkdtempSync(path.join(tmpdir(), "tether-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
/** A `sleep` whose command line no other process has. */
const uniqueSleep = () => `${300 + Math.floor(Math.random() * 1000)}.${process.pid}`;
/** The sleep processes themselves (the tether shells mention the same words). */
const sleeping = (seconds: string) => processesMentioning([`sleep ${seconds}`]).filter((entry) => /^\d+: sleep /.test(entry));

describe("tethered services", () => {
  it("stop() ends the service and resolves when it has exited", async () => {
    const seconds = uniqueSleep();
    const service = spawnTethered("sleep", [seconds], { stopSignal: "SIGTERM", logFile: path.join(folder, "stop.log") });
    await expect.poll(() => sleeping(seconds).length).toBe(1);
    await service.stop();
    expect(processesMentioning([`sleep ${seconds}`])).toEqual([]); // the shells too
  });

  it("a SIGKILLed parent takes its service with it", async () => {
    const seconds = uniqueSleep();
    const script = `import { spawnTethered } from ${JSON.stringify(path.join(repoRoot, "scripts/embedded-services.ts"))};
      spawnTethered("sleep", [${JSON.stringify(seconds)}], { stopSignal: "SIGTERM", logFile: ${JSON.stringify(path.join(folder, "kill.log"))} });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, stdio: "ignore" });
    const exited = new Promise((resolve) => parent.once("exit", resolve));
    await expect.poll(() => sleeping(seconds).length, { timeout: 15_000 }).toBe(1);
    parent.kill("SIGKILL");
    await exited;
    expect(await leftovers([`sleep ${seconds}`])).toEqual([]);
  });
});
