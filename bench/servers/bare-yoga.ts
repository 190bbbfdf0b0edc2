/**
 * Peer of the GraphQL scenario: bare graphql-yoga on node:http with an equivalent `workflow(id)` resolver —
 * the same row read with `pg` (a pool of 10, as our Prisma client has), no auth, no limits, no plugins.
 */
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const READ = {
  name: "bench_workflow_by_id",
  text: `SELECT id, "workspaceId", name, description, definition, "latestVersion", "createdAt", "updatedAt" FROM "Workflow" WHERE id = $1`,
};

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    scalar JSON
    scalar DateTime
    type Workflow {
      id: ID!
      workspaceId: ID!
      name: String!
      description: String!
      definition: JSON!
      latestVersion: Int!
      createdAt: DateTime!
      updatedAt: DateTime!
    }
    type Query {
      workflow(id: ID!): Workflow!
    }
  `,
  resolvers: {
    Query: {
      workflow: async (_root: unknown, args: { id: string }) => {
        const { rows } = await pool.query({ ...READ, values: [args.id] });
        if (!rows[0]) throw new Error("not found");
        return rows[0];
      },
    },
    DateTime: { serialize: (value: unknown) => (value instanceof Date ? value.toISOString() : value) } as never,
  },
});

const yoga = createYoga({ schema, logging: false, graphiql: false, maskedErrors: true });
const server = createServer(yoga);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ ready: true, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
});
process.on("SIGTERM", () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
});
// The bench died without stopping us: do not live on as an orphan.
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
