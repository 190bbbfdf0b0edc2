/**
 * The import rules of the codebase, checked in CI (tests/static): imports flow one way —
 *   app → domain + sdk (its typed documents);  server, collab, worker → domain + platform;  platform → domain;
 *   domain and sdk → nothing of ours (the SDK reaches the server through GraphQL only) —
 * and there are no import cycles between our modules.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const projectRoot = path.resolve(import.meta.dirname, "..");

/** Top-level parts and the parts each may import. */
const ALLOWED: Record<string, string[]> = {
  app: ["domain", "sdk"],
  server: ["domain", "platform"],
  collab: ["domain", "platform"],
  worker: ["domain", "platform"],
  platform: ["domain"],
  domain: [],
  sdk: [],
};

function partOf(root: string, file: string): string | null {
  const relative = path.relative(root, file).split(path.sep);
  if (relative[0] === "packages") return relative[1] ?? null;
  return relative[0] && relative[0] in ALLOWED ? relative[0] : null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === "node_modules" || name === "generated" || name === "build") return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts") ? [full] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function resolveImport(root: string, from: string, specifier: string): { file: string | null; part: string | null } {
  if (specifier.startsWith("@algorythmos/")) return { file: null, part: specifier.split("/")[1]! };
  if (specifier.startsWith("~/")) specifier = path.relative(path.dirname(from), path.join(root, "app", specifier.slice(2))) || ".";
  if (!specifier.startsWith(".")) return { file: null, part: null }; // an npm package
  const base = path.resolve(path.dirname(from), specifier).replace(/\.js$/, "");
  for (const candidate of [base + ".ts", base + ".tsx", path.join(base, "index.ts"), path.join(base, "index.tsx"), base]) {
    try {
      if (statSync(candidate).isFile()) return { file: candidate, part: partOf(root, candidate) };
    } catch {
      // try the next candidate
    }
  }
  return { file: null, part: partOf(root, base) };
}

/** Returns one line per problem; `root` lets the tests check a fixture tree. */
export function checkImports(root: string = projectRoot): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  const parts = ["app", "server", "collab", "worker", "packages/domain", "packages/platform", "packages/sdk"];
  for (const file of parts.filter((part) => existsSync(path.join(root, part))).flatMap((part) => sourceFiles(path.join(root, part)))) {
    const from = partOf(root, file)!;
    const edges: string[] = [];
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2])!;
      const target = resolveImport(root, file, specifier);
      if (target.part && target.part !== from && !ALLOWED[from]!.includes(target.part)) {
        problems.push(`${path.relative(root, file)}: ${from} must not import ${target.part} ("${specifier}")`);
      }
      if (target.file) edges.push(target.file);
    }
    graph.set(file, edges);
  }
  // Cycles: depth-first search with colours.
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "visiting") {
        const cycle = stack.slice(stack.indexOf(next)).concat(next).map((item) => path.relative(root, item));
        problems.push(`import cycle: ${cycle.join(" → ")}`);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkImports();
  for (const problem of problems) console.error(problem);
  console.log(problems.length ? `${problems.length} import problem(s)` : "imports ok");
  process.exit(problems.length ? 1 : 0);
}
