import { randomUUID } from 'node:crypto';
import type { AppRegistry, LogSink } from './functionsCore';
import type { BindingInfo, InvocationResponse, ParameterBinding, RegisteredFunction, TypedData } from './types';

export type InvocationOutcome =
  { kind: 'succeeded'; invocationId: string; durationMs: number; response: InvocationResponse } | { kind: 'failed'; invocationId: string; durationMs: number; error: Error };

/** Supplies the data of an extra input binding of a given type (for example `durableClient`). */
export type InputProvider = (binding: BindingInfo, fn: RegisteredFunction) => TypedData;

/** Delivers the value a succeeded invocation set on an output binding of a given type (for example `queue`). */
export type OutputHandler = (output: { binding: BindingInfo; data: TypedData; fn: RegisteredFunction }) => Promise<void>;

export type Invoker = {
  readonly registry: AppRegistry;
  invoke(fn: RegisteredFunction, trigger: { data: TypedData; triggerMetadata?: Record<string, TypedData> }): Promise<InvocationOutcome>;
  /** Registers the provider for extra input bindings of `type`. */
  provideInput(type: string, provider: InputProvider): void;
  /** Registers the handler for output bindings of `type`; when it throws, the invocation fails. */
  handleOutput(type: string, handler: OutputHandler): void;
};

export const triggerBinding = (fn: RegisteredFunction): [string, BindingInfo] => {
  const found = Object.entries(fn.metadata.bindings).find(([, b]) => b.direction === 'in' && /Trigger$/i.test(b.type ?? ''));
  if (found === undefined) throw new Error(`Function "${fn.metadata.name}" has no trigger binding`);
  return found;
};

export const triggerType = (fn: RegisteredFunction): string => triggerBinding(fn)[1].type ?? '';

export const functionsWithTrigger = (registry: AppRegistry, type: string): RegisteredFunction[] => registry.functions.filter((fn) => triggerType(fn).toLowerCase() === type.toLowerCase());

export const outputBindings = (fn: RegisteredFunction, type: string): [string, BindingInfo][] =>
  Object.entries(fn.metadata.bindings).filter(([, b]) => b.direction === 'out' && (b.type ?? '').toLowerCase() === type.toLowerCase());

const errorOf = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Runs one invocation through the app's programming model, exactly as the Functions worker does:
 * getInvocationModel -> getArguments -> invokeFunction -> getResponse. Never throws: a failing
 * handler is an outcome the caller maps to its trigger's semantics (500, retry, poison).
 */
export const createInvoker = (registry: AppRegistry, log: LogSink): Invoker => {
  const providers = new Map<string, InputProvider>();
  const outputHandlers = new Map<string, OutputHandler>();
  return {
    registry,
    provideInput: (type, provider) => providers.set(type.toLowerCase(), provider),
    handleOutput: (type, handler) => outputHandlers.set(type.toLowerCase(), handler),
    invoke: async (fn, trigger) => {
      const invocationId = randomUUID();
      const started = performance.now();
      const pm = registry.programmingModel;
      try {
        if (pm === undefined) throw new Error('No programming model registered');
        const [triggerName] = triggerBinding(fn);
        const inputData: ParameterBinding[] = [{ name: triggerName, data: trigger.data }];
        for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
          if (binding.direction !== 'in' || name === triggerName) continue;
          const provider = providers.get((binding.type ?? '').toLowerCase());
          if (provider === undefined) throw new Error(`Input binding type "${binding.type}" is not supported by the local host`);
          inputData.push({ name, data: provider(binding, fn) });
        }
        const model = pm.getInvocationModel({
          invocationId,
          metadata: fn.metadata,
          request: { inputData, triggerMetadata: trigger.triggerMetadata ?? {} },
          log: (level, category, message) => log(level, category === 'user' ? fn.metadata.name : category, message),
        });
        const { context, inputs } = await model.getArguments();
        const result = await model.invokeFunction(context, inputs, fn.callback);
        const response = await model.getResponse(context, result);
        // As in Azure, outputs are delivered after the handler returns, and a failed delivery fails the invocation.
        for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
          const handler = binding.direction === 'out' ? outputHandlers.get((binding.type ?? '').toLowerCase()) : undefined;
          const data = name === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
          if (handler !== undefined && data != null) await handler({ binding, data, fn });
        }
        return { kind: 'succeeded', invocationId, durationMs: performance.now() - started, response };
      } catch (e) {
        return { kind: 'failed', invocationId, durationMs: performance.now() - started, error: errorOf(e) };
      }
    },
  };
};
