#!/usr/bin/env node
// The `algorythmos` CLI (packages/sdk/src/cli.ts), run through tsx like the rest of the project's TypeScript.
import { register } from "tsx/esm/api";

register();
const { main, processIo } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2), processIo());
