import * as E from 'fp-ts/Either';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import { DEFAULT_EVENTS_LIMIT, DEFAULT_EVENTS_SINCE_HOURS, listRecentEvents } from '../listRecentEvents';

const DEFAULTS = { limit: DEFAULT_EVENTS_LIMIT, sinceHours: DEFAULT_EVENTS_SINCE_HOURS };

const NOW = new Date('2024-05-02T12:00:00.000Z');
const hoursAgo = (h: number): string => new Date(NOW.getTime() - h * 3_600_000).toISOString();

describe('listRecentEvents', () => {
  const events = memoryEventStore();
  const list = listRecentEvents({ events, clock: { now: () => NOW } });
  beforeAll(async () => {
    for (let i = 0; i < 30; i++) await events.add({ id: `e${i}` as EventId, name: 'ping:all', payload: {}, receivedAt: hoursAgo(i * 2), status: 'accepted' })();
  });

  it('answers the newest events of the last 24 hours by default, at most the default limit', async () => {
    const result = await list(DEFAULTS)();
    expect(E.isRight(result) && result.right.map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12'].slice(0, DEFAULT_EVENTS_LIMIT));
  });

  it('takes limit and sinceHours', async () => {
    const result = await list({ limit: 2, sinceHours: 48 })();
    expect(E.isRight(result) && result.right.map((e) => e.id)).toEqual(['e0', 'e1']);
    const wide = await list({ limit: 100, sinceHours: 48 })();
    expect(E.isRight(wide) && wide.right.length).toBe(25);
  });

  it('passes a storage failure on', async () => {
    const failing = memoryEventStore();
    failing.failWith = transient('down');
    expect(await listRecentEvents({ events: failing, clock: { now: () => NOW } })(DEFAULTS)()).toEqual(E.left(transient('down')));
  });
});
