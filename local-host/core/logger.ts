import type { LogLevel } from './types';

export type LogRecord = { level: LogLevel; category: string; message: string; [field: string]: unknown };

export type Logger = {
  log(level: LogLevel, category: string, message: string, fields?: Record<string, unknown>): void;
  /** One line per invocation: function, invocation id, duration, outcome. */
  invocation(fields: { function: string; invocationId: string; durationMs: number; outcome: 'succeeded' | 'failed'; trigger: string; error?: string }): void;
};

const LEVEL_RANK: Record<LogLevel, number> = { trace: 0, debug: 1, information: 2, warning: 3, error: 4, critical: 5, none: 6 };

export const parseLogLevel = (value: string | undefined): LogLevel => (value !== undefined && value in LEVEL_RANK ? (value as LogLevel) : 'information');

/**
 * Logs as one line per record: human-readable by default, JSON lines when `format` is `json`
 * (the setting `LOCAL_HOST_LOG_FORMAT`), so tests and tools can parse them.
 */
export const createLogger = (options: { format: 'text' | 'json'; minLevel: LogLevel; write?: (line: string) => void }): Logger => {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const emit = (record: LogRecord): void => {
    if (LEVEL_RANK[record.level] < LEVEL_RANK[options.minLevel]) return;
    if (options.format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), ...record }));
      return;
    }
    const { level, category, message, ...fields } = record;
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`[${new Date().toISOString()}] ${level.padEnd(11)} ${category}: ${message}${extra ? ' ' + extra : ''}`);
  };
  return {
    log: (level, category, message, fields) => emit({ ...fields, level, category, message }),
    invocation: (f) =>
      emit({
        level: f.outcome === 'failed' ? 'error' : 'information',
        category: 'host',
        message: `Executed '${f.function}' (${f.outcome === 'failed' ? 'Failed' : 'Succeeded'}, Id=${f.invocationId}, Duration=${Math.round(f.durationMs)}ms)`,
        ...f,
        durationMs: Math.round(f.durationMs),
      }),
  };
};
