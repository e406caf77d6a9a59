// The slice of the Functions worker contract ("@azure/functions-core") this host implements.
// Shapes follow the worker protocol; only members the programming model actually uses are typed.

export type TypedData = {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  int?: number | null;
  double?: number | null;
  http?: RpcHttp | null;
};

export type RpcHttp = {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  query?: Record<string, string> | null;
  params?: Record<string, string> | null;
  body?: TypedData | null;
  statusCode?: string | null;
  cookies?: unknown[] | null;
};

export type BindingInfo = {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  [property: string]: unknown;
};

export type FunctionMetadata = {
  name: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
};

export type ParameterBinding = { name: string; data: TypedData | null | undefined };

export type InvocationRequest = {
  inputData: ParameterBinding[];
  triggerMetadata: Record<string, TypedData>;
};

export type InvocationResponse = {
  invocationId: string;
  outputData?: ParameterBinding[] | null;
  returnValue?: TypedData | null;
};

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export type CoreInvocationContext = {
  invocationId: string;
  request: InvocationRequest;
  metadata: FunctionMetadata;
  state?: string;
  log: (level: LogLevel, category: 'user' | 'system' | 'customMetric', message: string) => void;
};

export type InvocationModel = {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
};

export type ProgrammingModel = {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
};

export type FunctionCallback = (...args: unknown[]) => unknown;

export type RegisteredFunction = {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
};
