/**
 * The hand-written migrations (prisma/migrations/*\/migration.sql, applied by our own runner) build exactly the
 * database prisma/schema.prisma describes: Prisma 7's `migrate diff` needs its native schema engine, which this
 * machine cannot download (docs/decisions/0002), so this test is the check a new migration must pass.
 * It reads the schema's models, enums, ids, uniques, indexes and relations, and compares them with the migrated
 * test database's catalog both ways (nothing missing, nothing extra).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Boolean: "boolean",
  DateTime: "timestamp without time zone",
  Json: "jsonb",
  Bytes: "bytea",
  Float: "double precision",
};
const ON_DELETE: Record<string, string> = { Cascade: "CASCADE", SetNull: "SET NULL", Restrict: "RESTRICT", NoAction: "NO ACTION", SetDefault: "SET DEFAULT" };

interface Column { name: string; type: string; nullable: boolean }
interface ForeignKey { columns: string[]; table: string; references: string[]; onDelete: string }
interface Table { name: string; columns: Column[]; primaryKey: string[]; uniques: string[][]; indexes: string[][]; foreignKeys: ForeignKey[] }

/** The schema's tables, in the shape the catalog query returns (Prisma's defaults: RESTRICT for required relations, SET NULL for optional ones). */
function tablesOfSchema(source: string): { tables: Table[]; enums: Record<string, string[]> } {
  const blocks = [...source.matchAll(/^(model|enum)\s+(\w+)\s*\{([\s\S]*?)^\}/gm)];
  const enums: Record<string, string[]> = {};
  for (const [, kind, name, body] of blocks) {
    if (kind === "enum") enums[name!] = body!.split("\n").map((line) => line.replace(/\/\/.*$/, "").trim()).filter(Boolean);
  }
  const tables: Table[] = [];
  for (const [, kind, name, body] of blocks) {
    if (kind !== "model") continue;
    const table: Table = { name: name!, columns: [], primaryKey: [], uniques: [], indexes: [], foreignKeys: [] };
    for (const raw of body!.split("\n")) {
      const line = raw.replace(/\/\/.*$/, "").trim();
      if (!line) continue;
      // The names in `@@unique([a, b])` or `fields: [a, b]`.
      const list = (attribute: string) => line.match(new RegExp(`${attribute}\\(?\\s*\\[([^\\]]*)\\]`))?.[1]!.split(",").map((c) => c.trim());
      if (line.startsWith("@@id")) table.primaryKey = list("@@id")!;
      else if (line.startsWith("@@unique")) table.uniques.push(list("@@unique")!);
      else if (line.startsWith("@@index")) table.indexes.push(list("@@index")!);
      else if (line.startsWith("@@")) throw new Error(`model ${name}: ${line} is not understood by this test; teach it`);
      else {
        const [field, rawType] = line.split(/\s+/) as [string, string];
        const type = rawType.replace(/[?[\]]/g, "");
        if (line.includes("@map(") || line.includes("@db.")) throw new Error(`model ${name}.${field}: @map/@db are not understood by this test; teach it`);
        if (line.includes("@relation(")) {
          const on = line.match(/onDelete:\s*(\w+)/)?.[1];
          table.foreignKeys.push({ columns: list("fields:")!, table: type, references: list("references:")!, onDelete: on ? ON_DELETE[on]! : rawType.endsWith("?") ? "SET NULL" : "RESTRICT" });
          continue;
        }
        if (!(type in SCALAR_TYPES) && !(type in enums)) continue; // a back-relation list or object: no column
        table.columns.push({ name: field, type: SCALAR_TYPES[type] ?? `enum ${type}`, nullable: rawType.endsWith("?") });
        if (/@id\b/.test(line)) table.primaryKey = [field];
        if (/@unique\b/.test(line)) table.uniques.push([field]);
      }
    }
    tables.push(table);
  }
  return { tables, enums };
}

async function tablesOfDatabase(client: pg.Client): Promise<{ tables: Table[]; enums: Record<string, string[]> }> {
  const names = (await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`)).rows.map((r) => r.name);
  const tables: Table[] = [];
  for (const name of names) {
    const columns = (
      await client.query<{ name: string; type: string; udt: string; nullable: string }>(
        `SELECT column_name AS name, data_type AS type, udt_name AS udt, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
        [name],
      )
    ).rows.map((c) => ({ name: c.name, type: c.type === "USER-DEFINED" ? `enum ${c.udt}` : c.type, nullable: c.nullable === "YES" }));
    // Indexes by their columns in order; the primary key's and the unique ones' apart from the plain ones.
    const indexes = (
      await client.query<{ columns: string[]; primary: boolean; unique: boolean }>(
        `SELECT array_agg(a.attname::text ORDER BY k.n) AS columns, i.indisprimary AS primary, i.indisunique AS unique
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE s.nspname = 'public' AND t.relname = $1 GROUP BY i.indexrelid, i.indisprimary, i.indisunique`,
        [name],
      )
    ).rows;
    const foreignKeys = (
      await client.query<{ columns: string[]; table: string; references: string[]; on_delete: string }>(
        `SELECT (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
                r.relname AS table,
                (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS references,
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' WHEN 'd' THEN 'SET DEFAULT' END AS on_delete
           FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace s ON s.oid = t.relnamespace
          WHERE c.contype = 'f' AND s.nspname = 'public' AND t.relname = $1`,
        [name],
      )
    ).rows.map((f) => ({ columns: f.columns, table: f.table, references: f.references, onDelete: f.on_delete }));
    tables.push({
      name,
      columns,
      primaryKey: indexes.find((i) => i.primary)?.columns ?? [],
      uniques: indexes.filter((i) => i.unique && !i.primary).map((i) => i.columns),
      indexes: indexes.filter((i) => !i.unique && !i.primary).map((i) => i.columns),
      foreignKeys,
    });
  }
  const enumRows = (await client.query<{ name: string; values: string[] }>(`SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`)).rows;
  return { tables, enums: Object.fromEntries(enumRows.map((e) => [e.name, e.values])) };
}

/** Order-free form for comparison: sorted columns, indexes and keys. */
const normalised = (tables: Table[]) =>
  Object.fromEntries(
    tables.map((t) => [
      t.name,
      {
        columns: Object.fromEntries([...t.columns].sort((a, b) => a.name.localeCompare(b.name)).map((c) => [c.name, `${c.type}${c.nullable ? " NULL" : " NOT NULL"}`])),
        primaryKey: t.primaryKey.join(","),
        uniques: t.uniques.map((u) => u.join(",")).sort(),
        indexes: t.indexes.map((u) => u.join(",")).sort(),
        foreignKeys: t.foreignKeys.map((f) => `${f.columns.join(",")} → ${f.table}(${f.references.join(",")}) ON DELETE ${f.onDelete}`).sort(),
      },
    ]),
  );

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
});

describe("the migrations build the database schema.prisma describes", () => {
  const schema = tablesOfSchema(readFileSync(path.resolve("prisma/schema.prisma"), "utf8"));

  it("reads the schema (the parser this check relies on sees every model)", () => {
    const models = readFileSync(path.resolve("prisma/schema.prisma"), "utf8").match(/^model\s+\w+/gm)!;
    expect(schema.tables.map((t) => t.name).sort()).toEqual(models.map((m) => m.split(/\s+/)[1]).sort());
    expect(schema.tables.find((t) => t.name === "RunStep")?.uniques).toContainEqual(["runId", "stepId", "attempt"]);
  });

  it("every table, column (type, null), primary key, unique, index and foreign key, and nothing more", async () => {
    const database = await tablesOfDatabase(client);
    expect(normalised(database.tables)).toEqual(normalised(schema.tables));
  });

  it("every enum with its values in order", async () => {
    const database = await tablesOfDatabase(client);
    expect(database.enums).toEqual(schema.enums);
  });
});
