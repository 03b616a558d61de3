// Messages between a test (the parent) and its child processes (testkit/child-main.ts).

export interface CallMessage {
  readonly type: 'call';
  readonly seq: number;
  readonly module: string; // file URL of a fixture module
  readonly fn: string;
  readonly args: unknown;
}

export interface SignalMessage {
  readonly type: 'signal';
  readonly name: string;
  readonly data?: unknown;
}

export type ParentMessage = CallMessage | SignalMessage;

export interface SerializedError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly seq: number; readonly value: unknown }
  | { readonly type: 'error'; readonly seq: number; readonly error: SerializedError }
  | { readonly type: 'event'; readonly name: string; readonly data?: unknown };

// What a fixture function receives besides its arguments.
export interface FixtureContext {
  // Tells the parent something happened ('ready', 'locked', ...); the parent can await it. The
  // promise resolves once the message has left this process (await it before blocking the thread).
  emit(name: string, data?: unknown): Promise<void>;
  // Waits for a signal from the parent (a barrier's 'go'); rejects after timeoutMs.
  waitFor(name: string, timeoutMs: number): Promise<unknown>;
}

// A fixture is a plain exported function of a module that runs inside a child process.
export type Fixture<A, R> = (args: A, ctx: FixtureContext) => R | Promise<R>;
