import { PageArgs } from "@algorythmos/domain";
import { z } from "zod";
import { badInput, fromZodError } from "../errors.js";

/**
 * Keyset pagination over (createdAt desc, id desc): stable while rows are added or deleted.
 * The cursor is opaque to clients: base64url of "<iso time>|<id>".
 * Forwards (`first` / `after`, what REST offers) or backwards (`last` / `before`, GraphQL's Relay connections):
 * either way a page's items are in list order (newest first).
 */
export interface Page<T> {
  items: T[];
  /**
   * Where to go on in the direction of paging, null when nothing is left that way: forwards the cursor of the
   * last item (pass it as `after`), backwards the cursor of the first (pass it as `before`).
   */
  nextCursor: string | null;
}

/** What a list accepts to choose its page. */
export interface PageArgsInput {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface PageRequest {
  /** Rows to fetch: the page size plus one (which only tells whether there is more); negative backwards. */
  take: number;
  where: object;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string, name: "after" | "before"): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || Number.isNaN(createdAt.getTime())) throw badInput(`The cursor \`${name}\` is not one this API returned`, [{ path: [name], message: "Invalid cursor" }]);
  return { createdAt, id };
}

/** `last` / `before`, checked like PageArgs checks `first` / `after`. */
const BackwardPageArgs = z.object({
  last: z.number().int().min(1, "last must be at least 1").max(100, "last must be at most 100"),
  before: z.string().max(200).nullish(),
});

export const isBackward = (args: PageArgsInput) => args.last != null;

export function pageRequest(args: PageArgsInput): PageRequest {
  if (args.first != null && args.last != null) {
    throw badInput("Pass `first` (forwards) or `last` (backwards), not both", [{ path: ["last"], message: "Not with first" }]);
  }
  const forward = PageArgs.safeParse({ first: args.first ?? undefined, after: args.after });
  if (!forward.success) throw fromZodError(forward.error);
  const backward = isBackward(args) ? BackwardPageArgs.safeParse({ last: args.last, before: args.before }) : null;
  if (backward && !backward.success) throw fromZodError(backward.error);
  const bounds: object[] = [];
  if (forward.data.after) {
    const { createdAt, id } = decodeCursor(forward.data.after, "after");
    bounds.push({ OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] }); // older: after it in list order
  }
  if (args.before) {
    const { createdAt, id } = decodeCursor(args.before, "before");
    bounds.push({ OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] }); // newer: before it in list order
  }
  const where = bounds.length > 1 ? { AND: bounds } : (bounds[0] ?? {});
  // A negative take makes Prisma read from the end of the ordered list, and still answer in list order.
  return { take: backward?.data ? -(backward.data.last + 1) : forward.data.first + 1, where };
}

/** Turns `|take|` fetched rows into a page (the extra row only tells whether there is more that way). */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], request: PageRequest): Page<T> {
  const size = Math.abs(request.take) - 1;
  const hasMore = rows.length > size;
  if (request.take < 0) {
    const items = hasMore ? rows.slice(rows.length - size) : rows;
    return { items, nextCursor: hasMore && items.length ? encodeCursor(items[0]!) : null };
  }
  const items = rows.slice(0, size);
  return { items, nextCursor: hasMore && items.length ? encodeCursor(items.at(-1)!) : null };
}

export const PAGE_ORDER = [{ createdAt: "desc" as const }, { id: "desc" as const }];
