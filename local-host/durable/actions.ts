import * as t from 'io-ts';
import { RetryOptions } from './history';

/** Action types of `durable-functions` (actions/ActionType.js). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

type RawAction = { actionType: number; functionName?: unknown; input?: unknown; retryOptions?: unknown; fireAt?: unknown; compoundActions?: RawAction[] };
const RawAction: t.Type<RawAction> = t.recursion('RawAction', () =>
  t.intersection([t.type({ actionType: t.number }), t.partial({ functionName: t.unknown, input: t.unknown, retryOptions: t.unknown, fireAt: t.unknown, compoundActions: t.array(RawAction) })]),
);

/** The state an orchestrator invocation returns (OrchestratorState.js), as JSON. */
export const OrchestratorState = t.intersection([
  t.type({ isDone: t.boolean, actions: t.array(t.array(RawAction)) }),
  t.partial({ output: t.unknown, customStatus: t.unknown, error: t.string, schemaVersion: t.number }),
]);
export type OrchestratorState = t.TypeOf<typeof OrchestratorState>;

/** One task that takes a number from the orchestration's id sequence. */
export type Leaf = { kind: 'activity'; name: string; input: unknown; retry?: RetryOptions } | { kind: 'timer'; fireAt: string };

export type Plan = {
  /** Tasks in the order the library numbered them (depth-first, in the order they were yielded). */
  leaves: Leaf[];
  continueAsNew?: { input: unknown };
  /** Actions this host does not run (sub-orchestrations, entities, HTTP): the orchestration fails. */
  unsupported: string[];
};

const UNSUPPORTED: Record<number, string> = {
  [ActionType.CallSubOrchestrator]: 'sub-orchestrations',
  [ActionType.CallSubOrchestratorWithRetry]: 'sub-orchestrations',
  [ActionType.CallEntity]: 'entities',
  [ActionType.SignalEntity]: 'entities',
  [ActionType.LockEntities]: 'entities',
  [ActionType.ReleaseEntities]: 'entities',
  [ActionType.CallHttp]: 'durable HTTP calls',
};

/**
 * Flattens the cumulative action list (replay schema V2 and up) into the tasks that take ids, in
 * the library's numbering order: `trackOpenTask` walks compound tasks depth-first and numbers each
 * leaf once. External-event waits and continueAsNew take no id.
 */
export const planActions = (state: OrchestratorState): Plan => {
  const plan: Plan = { leaves: [], unsupported: [] };
  const visit = (action: RawAction): void => {
    switch (action.actionType) {
      case ActionType.WhenAll:
      case ActionType.WhenAny:
        (action.compoundActions ?? []).forEach(visit);
        return;
      case ActionType.CallActivity:
        plan.leaves.push({ kind: 'activity', name: String(action.functionName), input: action.input });
        return;
      case ActionType.CallActivityWithRetry: {
        const retry = RetryOptions.decode(action.retryOptions);
        if (retry._tag === 'Left') {
          plan.unsupported.push('callActivityWithRetry without valid retry options');
          return;
        }
        plan.leaves.push({ kind: 'activity', name: String(action.functionName), input: action.input, retry: retry.right });
        return;
      }
      case ActionType.CreateTimer:
        plan.leaves.push({ kind: 'timer', fireAt: String(action.fireAt) });
        return;
      case ActionType.ContinueAsNew:
        plan.continueAsNew = { input: action.input };
        return;
      case ActionType.WaitForExternalEvent:
        return;
      default:
        plan.unsupported.push(UNSUPPORTED[action.actionType] ?? `action type ${action.actionType}`);
    }
  };
  for (const action of state.actions[0] ?? []) visit(action);
  return plan;
};

/**
 * The text an activity's trigger receives: `durable-functions` already JSON-encodes string inputs,
 * other values arrive as values. The worker's converter JSON-parses it back.
 */
export const activityInputText = (input: unknown): string | undefined => (input === undefined ? undefined : typeof input === 'string' ? input : JSON.stringify(input));
