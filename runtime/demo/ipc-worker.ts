// The demo's Node-IPC baseline worker: runs an export of runtime/demo/tasks.ts per message, the
// arguments and the result travelling through the child_process channel (advanced serialisation).
import * as tasks from './tasks.js';

type Call = { readonly id: number; readonly fn: keyof typeof tasks; readonly args: readonly unknown[] };

process.on('message', (m: Call) => {
  const fn = tasks[m.fn] as (...args: unknown[]) => unknown;
  process.send?.({ id: m.id, result: fn(...m.args) });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: -1, result: 'ready' });
