import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import type { AppError } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import { ingestEvent } from '../ingestEvent';

const FISCAL_CODE = 'AAABBB00A00A000B';
const clock = { now: () => new Date('2024-05-01T10:00:00.000Z') };

const setup = (options: { startDispatch?: (id: EventId, event: { repeated: boolean }) => TE.TaskEither<AppError, void> } = {}) => {
  const events = memoryEventStore();
  let n = 0;
  const ingest = ingestEvent({ events, clock, newEventId: () => `generated-${++n}` as EventId, startDispatch: options.startDispatch });
  return { events, ingest };
};

describe('ingestEvent', () => {
  it('stores a valid event with a generated id, and answers that id', async () => {
    const { events, ingest } = setup();
    expect(await ingest({ name: 'ping:all' })()).toEqual(E.right({ id: 'generated-1', name: 'ping:all', repeated: false }));
    expect(events.rows.get('generated-1')).toEqual({ id: 'generated-1', name: 'ping:all', payload: {}, receivedAt: '2024-05-01T10:00:00.000Z', status: 'accepted' });
  });

  it('keeps the client id, and stores only what the catalogue names', async () => {
    const { events, ingest } = setup();
    await ingest({ id: 'evt-1', name: 'service:subscribed', payload: { serviceId: 's', fiscalCode: FISCAL_CODE, junk: 1 } })();
    expect(events.rows.get('evt-1')?.payload).toEqual({ serviceId: 's', fiscalCode: FISCAL_CODE });
  });

  it('accepts the same id and event again without storing it twice, in any key order', async () => {
    const { events, ingest } = setup();
    const event = { id: 'evt-1', name: 'profile:completed', payload: { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' } };
    await ingest(event)();
    const again = await ingest({ payload: { servicePreferencesMode: 'AUTO', fiscalCode: FISCAL_CODE }, name: 'profile:completed', id: 'evt-1' })();
    expect(again).toEqual(E.right({ id: 'evt-1', name: 'profile:completed', repeated: true }));
    expect(events.rows.size).toBe(1);
  });

  it('answers Conflict for the same id with another event, and keeps the first', async () => {
    const { events, ingest } = setup();
    await ingest({ id: 'evt-1', name: 'ping', payload: { name: 'a' } })();
    const result = await ingest({ id: 'evt-1', name: 'ping', payload: { name: 'b' } })();
    expect(E.isLeft(result) && result.left.kind).toBe('Conflict');
    expect(events.rows.get('evt-1')?.payload).toEqual({ name: 'a' });
  });

  it.each([
    [{ name: 'nope' }, ['name: unknown event "nope"; known events: ping, service:subscribed, ping:all, profile:completed, profile:service-preferences-changed']],
    [{ name: 'ping', payload: { name: '' } }, ['payload.name: must be a non-empty string']],
    [{ name: 'ping', id: 'has space' }, ['id: must be an event id (1-128 characters: letters, digits, _ . : -, not dots alone)']],
    [{ payload: {} }, ['name: is required (a string)']],
    ['a string', ['(body): must be an object']],
  ])('refuses %j as Invalid, naming the problem', async (body, details) => {
    const { events, ingest } = setup();
    const result = await ingest(body)();
    expect(result).toEqual(E.left({ kind: 'Invalid', message: 'The event is invalid', details }));
    expect(events.rows.size).toBe(0);
  });

  it('passes a storage failure on (never an accepted event that was not stored)', async () => {
    const { events, ingest } = setup();
    events.failWith = { kind: 'Transient', message: 'storage down' };
    expect(await ingest({ name: 'ping:all' })()).toEqual(E.left({ kind: 'Transient', message: 'storage down' }));
  });

  it('starts dispatch after storing, again on a repeat (the port is idempotent), and reports its failure', async () => {
    const started: string[] = [];
    let fail = false;
    const { events, ingest } = setup({
      startDispatch: (id, event) => {
        started.push(`${id}:${events.rows.has(id) ? 'stored' : 'missing'}:${event.repeated ? 'repeat' : 'first'}`);
        return fail ? TE.left({ kind: 'Transient', message: 'orchestrator down' }) : TE.right(undefined);
      },
    });
    await ingest({ id: 'e1', name: 'ping:all' })();
    await ingest({ id: 'e1', name: 'ping:all' })();
    fail = true;
    expect(await ingest({ id: 'e2', name: 'ping:all' })()).toEqual(E.left({ kind: 'Transient', message: 'orchestrator down' }));
    expect(started).toEqual(['e1:stored:first', 'e1:stored:repeat', 'e2:stored:first']);
  });

  it('hands a post without id to dispatchFresh (which stores it); one with an id, or a disabled event, is stored first as before', async () => {
    const events = memoryEventStore();
    const calls: string[] = [];
    const ingest = ingestEvent({
      events,
      clock,
      newEventId: () => 'generated-1' as EventId,
      disabledEvents: new Set(['ping:all']),
      startDispatch: (id) => {
        calls.push(`start:${id}:${events.rows.has(id) ? 'stored' : 'missing'}`);
        return TE.right(undefined);
      },
      dispatchFresh: (event) => {
        calls.push(`fresh:${event.id}:${events.rows.has(event.id) ? 'stored' : 'missing'}`);
        return TE.right(undefined);
      },
    });
    expect(await ingest({ name: 'ping', payload: { name: 'a' } })()).toEqual(E.right({ id: 'generated-1', name: 'ping', repeated: false }));
    expect(await ingest({ id: 'e1', name: 'ping', payload: { name: 'a' } })()).toEqual(E.right({ id: 'e1', name: 'ping', repeated: false }));
    expect(await ingest({ name: 'ping:all' })()).toEqual(E.right({ id: 'generated-1', name: 'ping:all', repeated: false, disabled: true }));
    expect(calls).toEqual(['fresh:generated-1:missing', 'start:e1:stored']);
    expect(events.rows.get('generated-1' as EventId)?.name).toBe('ping:all');
  });
});
