import { readFileSync, writeFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const where = (url: string) => {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + 13).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = /\/(server|collab|worker|packages\/[a-z]+|scripts)\//.exec(url);
  if (ours) return `ours:${url.slice(url.indexOf(ours[0]) + 1)}`;
  if (url.startsWith("node:")) return url;
  if (url.startsWith("wasm://")) return "wasm (Prisma query compiler)";
  return url ? url.split("/").slice(-1)[0]! : "(native)";
};

/**
 * Summarises a V8 .cpuprofile: self time by function and by package (node_modules name, our folders, node:
 * internals, or GC/idle/native). Writes the text to `out` and returns it.
 */
export function summariseProfile(file: string, out: string, top = 20): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };
  const total = profile.samples.length || 1;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = functionName === "(idle)" || functionName === "(garbage collector)" || functionName === "(program)" ? functionName : where(url);
    const name = `${functionName || "(anonymous)"} ${url ? `${where(url)}:${lineNumber + 1}` : ""}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  }
  const idle = byPackage.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (hits: number) => `${((100 * hits) / (busy || 1)).toFixed(1).padStart(5)}%`;
  const lines = [
    `profile ${file}`,
    `${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s recorded, busy ${((100 * busy) / total).toFixed(0)}% of samples; shares below are of busy samples`,
    "",
    "self time by package:",
    ...[...byPackage].filter(([name]) => name !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, hits]) => `  ${pct(hits)}  ${name}`),
    "",
    "top functions by self time:",
    ...[...byFunction].filter(([name]) => !name.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, hits]) => `  ${pct(hits)}  ${name}`),
  ];
  const text = lines.join("\n");
  writeFileSync(out, text + "\n");
  return text;
}

/** A layer of a request: its name and the script URLs whose frames belong to it. */
export interface Layer {
  name: string;
  match: RegExp;
}

/**
 * Splits a profile's busy samples into layers: each sample goes to the highest-ranked layer (first in `layers`)
 * with a frame anywhere on its stack, so a `pg` socket write under a resolver counts as SQL, and a Redis call
 * under the rate limiter as the rate limit. Returns each layer's share of the busy samples and the busy share.
 */
export function layerShares(file: string, layers: Layer[]): { busy: number; shares: { name: string; share: number }[] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const rank = new Map<number, number>();
  const rankOf = (node: ProfileNode | undefined): number => {
    if (!node) return layers.length;
    const known = rank.get(node.id);
    if (known !== undefined) return known;
    const own = layers.findIndex((layer) => layer.match.test(node.callFrame.url));
    const result = Math.min(own < 0 ? layers.length : own, rankOf(parent.get(node.id)));
    rank.set(node.id, result);
    return result;
  };
  const hits = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of byId.values()) {
    const count = node.hitCount ?? 0;
    if (!count) continue;
    total += count;
    const fn = node.callFrame.functionName;
    if (fn === "(idle)") {
      idle += count;
      continue;
    }
    const name = fn === "(garbage collector)" ? "GC" : fn === "(program)" ? "V8 / native without a JS stack" : (layers[rankOf(node)]?.name ?? "other");
    hits.set(name, (hits.get(name) ?? 0) + count);
  }
  const busy = total - idle;
  return {
    busy: total ? busy / total : 0,
    shares: [...hits].map(([name, count]) => ({ name, share: busy ? count / busy : 0 })).sort((a, b) => b.share - a.share),
  };
}
