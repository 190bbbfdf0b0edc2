import { bytes, type Db, type Logger } from "@algorythmos/platform";

interface PendingAppend {
  rows: { workflowId: string; update: Uint8Array }[];
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Group commit across every room of this process: appends that arrive while one insert is in flight go
 * together in the next one, so many busy documents cost one round trip, not one each. If a combined insert
 * fails, each room's rows are retried alone, so one room's failure (say, its workflow was deleted) fails
 * only that room.
 */
export class UpdateAppender {
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  append(rows: PendingAppend["rows"]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ rows, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async insert(rows: PendingAppend["rows"]): Promise<void> {
    await this.db.workflowUpdate.createMany({ data: rows.map((row) => ({ workflowId: row.workflowId, update: bytes(row.update) })) });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        try {
          await this.insert(batch.flatMap((item) => item.rows));
          for (const item of batch) item.resolve();
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error as Error);
            continue;
          }
          this.logger.warn("collab combined append failed; retrying per room", { error });
          await Promise.all(batch.map((item) => this.insert(item.rows).then(item.resolve, item.reject)));
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
