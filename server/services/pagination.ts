import { PageArgs } from "@algorythmos/domain";
import { badInput, fromZodError } from "../errors.js";

/**
 * Keyset pagination over (createdAt desc, id desc): stable while rows are added or deleted.
 * The cursor is opaque to clients: base64url of "<iso time>|<id>".
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  take: number;
  where: object;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString("base64url");
}

export function pageRequest(args: { first?: number | null; after?: string | null }): PageRequest {
  const parsed = PageArgs.safeParse({ first: args.first ?? undefined, after: args.after });
  if (!parsed.success) throw fromZodError(parsed.error);
  const { first, after } = parsed.data;
  if (!after) return { take: first + 1, where: {} };
  const [iso, id] = Buffer.from(after, "base64url").toString().split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || Number.isNaN(createdAt.getTime())) throw badInput("The cursor `after` is not one this API returned", [{ path: ["after"], message: "Invalid cursor" }]);
  return {
    take: first + 1,
    where: { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] },
  };
}

/** Turns `take + 1` fetched rows into a page (the extra row only tells whether there is more). */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], request: PageRequest): Page<T> {
  const items = rows.slice(0, request.take - 1);
  const hasMore = rows.length > items.length;
  return { items, nextCursor: hasMore && items.length ? encodeCursor(items.at(-1)!) : null };
}

export const PAGE_ORDER = [{ createdAt: "desc" as const }, { id: "desc" as const }];
