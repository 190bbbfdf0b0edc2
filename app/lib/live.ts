/** Small hooks for pages that stay live: a ticking clock and a debounced loader revalidation. */
import { useRevalidator } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState } from "react";

/**
 * The current time, refreshed every `intervalMs` while `active` (for growing duration bars). Null until the
 * page has hydrated, so the server render and the browser's first render agree.
 */
export function useNow(active: boolean, intervalMs = 250): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

/** Re-runs the page's loaders at most once per `delayMs`, however many live events ask for it. */
export function useDebouncedRevalidate(delayMs = 200): () => void {
  const revalidator = useRevalidator();
  const revalidateRef = useRef(revalidator.revalidate);
  revalidateRef.current = revalidator.revalidate;
  const stateRef = useRef(revalidator.state);
  stateRef.current = revalidator.state;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return useCallback(() => {
    if (timer.current) return;
    const fire = () => {
      // A revalidation started while one is in flight aborts the first (the router rejects it with an
      // AbortError nobody handles): wait for it instead.
      if (stateRef.current !== "idle") {
        timer.current = setTimeout(fire, delayMs);
        return;
      }
      timer.current = null;
      // A navigation that starts meanwhile aborts the revalidation; that is no error of the page's.
      const pending: unknown = revalidateRef.current();
      if (pending instanceof Promise) {
        pending.catch((error: unknown) => {
          if ((error as { name?: unknown } | null)?.name !== "AbortError") throw error;
        });
      }
    };
    timer.current = setTimeout(fire, delayMs);
  }, [delayMs]);
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return "—";
  // Deterministic (UTC) so the server render and the browser agree during hydration.
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Milliseconds from start to end (or to `now` while still going; null before hydration). */
export const durationBetween = (start: string | null, end: string | null, now: number | null): number | null =>
  !start ? null : end ? Date.parse(end) - Date.parse(start) : now === null ? null : Math.max(0, now - Date.parse(start));
