/**
 * Structured logs: one JSON object per line on stdout (stderr for warnings and errors), so a
 * log shipper can parse them without a logging dependency.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

type LoggedHook = (level: Exclude<LogLevel, "silent">, event: string, fields?: Record<string, unknown>) => void;
const hooks: LoggedHook[] = [];

/** Sees every record logged in this process, whatever the level shown (the metrics count warnings and errors). */
export function onLogged(hook: LoggedHook): void {
  hooks.push(hook);
}

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}): Logger {
  const min = LEVEL_RANK[level];
  const write = (lvl: Exclude<LogLevel, "silent">, event: string, fields?: Record<string, unknown>) => {
    for (const hook of hooks) hook(lvl, event, fields);
    if (LEVEL_RANK[lvl] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, event, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serialise(v);
    const line = JSON.stringify(record) + "\n";
    (lvl === "warn" || lvl === "error" ? process.stderr : process.stdout).write(line);
  };
  return {
    debug: (e, f) => write("debug", e, f),
    info: (e, f) => write("info", e, f),
    warn: (e, f) => write("warn", e, f),
    error: (e, f) => write("error", e, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  return value && value in LEVEL_RANK ? (value as LogLevel) : fallback;
}
