/**
 * A cron trigger as the studio previews it: a sentence and the next run times. The times come from the same
 * parser BullMQ's job schedulers use (cron-parser, the version BullMQ pins), with the same time zone the
 * reconciler gives them (the step's `timezone`, "UTC" by default), so the preview is what the worker fires.
 */
import type { CronExpressionParser as Parser } from "cron-parser";
// The parser module alone: the package's index also loads its crontab-file reader, which needs `fs`.
// @ts-expect-error -- the package declares its types for the index only
import { CronExpressionParser as parserModule } from "cron-parser/dist/CronExpressionParser";
import cronstrue from "cronstrue";

const CronExpressionParser = parserModule as typeof Parser;

export type CronPreview =
  | { ok: true; summary: string; next: Date[]; timezone: string }
  | { ok: false; error: string; field: "cron" | "timezone" };

/** Whether the runtime knows the IANA zone (`Europe/Paris`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The sentence ("Every 5 minutes", "At 09:00, only on Monday") and the next `count` run times after `from`. */
export function previewCron(expression: string, timezone: string, from = new Date(), count = 5): CronPreview {
  const pattern = expression.trim();
  const zone = timezone.trim() || "UTC";
  if (!pattern) return { ok: false, field: "cron", error: "Enter a cron expression, e.g. */5 * * * * (every 5 minutes)" };
  const fields = pattern.split(/\s+/).length;
  if (!pattern.startsWith("@") && (fields < 5 || fields > 6)) {
    return { ok: false, field: "cron", error: `A cron expression has 5 fields (minute hour day month weekday) or 6 with seconds first; this one has ${fields}` };
  }
  if (!isTimeZone(zone)) return { ok: false, field: "timezone", error: `“${zone}” is not a time zone; use an IANA name like UTC or Europe/Paris` };
  let next: Date[];
  try {
    const interval = CronExpressionParser.parse(pattern, { tz: zone, currentDate: from });
    next = interval.take(count).map((date) => date.toDate());
  } catch (error) {
    return { ok: false, field: "cron", error: `Not a valid cron expression: ${error instanceof Error ? error.message : String(error)}` };
  }
  let summary: string;
  try {
    // "At 09:00, only on Monday" reads better as "At 09:00 on Monday".
    summary = cronstrue.toString(pattern, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false }).replace(", only on ", " on ");
  } catch {
    summary = pattern; // the parser accepts it, only the sentence is missing
  }
  return { ok: true, summary, next, timezone: zone };
}

/** A run time as the person reads it, in the trigger's zone: "Mon 7 Dec 2026, 09:00 CET". */
export function formatInZone(date: Date, timezone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: date.getUTCSeconds() ? "2-digit" : undefined,
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(date);
}
