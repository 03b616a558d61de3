// What the driver and its worker processes tell each other over the child_process channel.
// Nothing here carries data: arguments and results go through the object store, tasks through
// the scheduler. The messages are start-up, shutdown, and hints that make the driver look at the
// scheduler at once (and draw the timeline) instead of at its next poll.
import type { ObjectId } from '../phase2-objects/index.js';

// The call object a task's only scheduler argument names: its arguments and where its result goes.
export interface CallRecord {
  readonly resultId: ObjectId;
  readonly args: readonly EncodedArg[];
}

export type EncodedArg = { readonly ref: ObjectId } | { readonly value: unknown };

export type WorkerMessage =
  | { readonly type: 'ready'; readonly worker: number }
  | { readonly type: 'fatal'; readonly message: string; readonly code?: string }
  | { readonly type: 'start'; readonly task: number; readonly fn: string; readonly attempt: number; readonly at: number }
  | { readonly type: 'end'; readonly task: number; readonly ok: boolean; readonly at: number };

export type DriverMessage = { readonly type: 'stop' };

export const ENV_STORE = 'MINIRAY_RT_STORE';
export const ENV_SCHEDULER = 'MINIRAY_RT_SCHEDULER';
