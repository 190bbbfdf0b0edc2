/** A tiny structured logger: one JSON line per entry, level from LOG_LEVEL. */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(name: string, level: LogLevel = "info"): Logger {
  const threshold = LEVELS[level];
  const write = (entryLevel: Exclude<LogLevel, "silent">) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[entryLevel] < threshold) return;
    for (const [key, value] of Object.entries(fields)) {
      if (value instanceof Error) fields[key] = { message: value.message, stack: value.stack };
    }
    const line = JSON.stringify({ at: new Date().toISOString(), level: entryLevel, name, message, ...fields });
    (entryLevel === "error" || entryLevel === "warn" ? process.stderr : process.stdout).write(line + "\n");
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
