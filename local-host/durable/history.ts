import * as t from 'io-ts';

/** Event types of the Durable Task history, as `durable-functions` reads them (PascalCase fields). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 2,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

/** Retry bookkeeping the host keeps on its own TaskScheduled/TimerCreated events (the library ignores unknown fields). */
export const RetryOptions = t.intersection([
  t.type({ firstRetryIntervalInMilliseconds: t.number, maxNumberOfAttempts: t.number }),
  t.partial({ backoffCoefficient: t.number, maxRetryIntervalInMilliseconds: t.number }),
]);
export type RetryOptions = t.TypeOf<typeof RetryOptions>;

export const HistoryEvent = t.intersection([
  t.type({ EventType: t.number, EventId: t.number, Timestamp: t.string }),
  t.partial({
    IsPlayed: t.boolean,
    Name: t.string,
    Input: t.union([t.string, t.null]),
    Result: t.union([t.string, t.null]),
    Reason: t.string,
    Details: t.string,
    TaskScheduledId: t.number,
    TimerId: t.number,
    FireAt: t.string,
    /** Inbox row this event came from: a repeated message is recognised by it. */
    InboxKey: t.string,
    Retry: t.type({ options: RetryOptions, attempt: t.number }),
    /** On a retry timer: the id of the failed attempt it waits after. */
    RetryOf: t.number,
  }),
]);
export type HistoryEvent = t.TypeOf<typeof HistoryEvent>;

/** What the committed history of one execution says about its tasks, for validating incoming results. */
export type HistoryIndex = {
  scheduled: Map<number, HistoryEvent>;
  timers: Map<number, HistoryEvent>;
  completed: Set<number>;
  inboxKeys: Set<string>;
  started: boolean;
};

export const indexHistory = (history: HistoryEvent[]): HistoryIndex => {
  const index: HistoryIndex = { scheduled: new Map(), timers: new Map(), completed: new Set(), inboxKeys: new Set(), started: false };
  for (const e of history) {
    if (e.InboxKey !== undefined) index.inboxKeys.add(e.InboxKey);
    switch (e.EventType) {
      case EventType.ExecutionStarted:
        index.started = true;
        break;
      case EventType.TaskScheduled:
        index.scheduled.set(e.EventId, e);
        break;
      case EventType.TimerCreated:
        index.timers.set(e.EventId, e);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
        if (e.TaskScheduledId !== undefined) index.completed.add(e.TaskScheduledId);
        break;
      case EventType.TimerFired:
        if (e.TimerId !== undefined) index.completed.add(e.TimerId);
        break;
    }
  }
  return index;
};

/** Delay before retry attempt `attempt + 1`, as the Durable Task retry policy computes it. */
export const retryDelayMs = (options: RetryOptions, failedAttempt: number): number => {
  const raw = options.firstRetryIntervalInMilliseconds * Math.pow(options.backoffCoefficient ?? 1, failedAttempt - 1);
  const capped = options.maxRetryIntervalInMilliseconds !== undefined && options.maxRetryIntervalInMilliseconds > 0 ? Math.min(raw, options.maxRetryIntervalInMilliseconds) : raw;
  return Number.isFinite(capped) && capped > 0 ? capped : 0;
};
