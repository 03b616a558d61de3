// One operation on a phase-4 store, run by the crash-point suite in a process of its own, with the
// reference built with crash points (build/Release/phase4_crash.node). With MINIRAY_CRASH_AT set,
// the process is SIGKILLed at that point; with MINIRAY_CRASH_LOG set, it lists the points it passed.
//
//   node crash-child.mjs <op> <segment> <id>
//   ops: put-small, put-large (the store may have to evict), delete, get-release, close-holding
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const addonFile = fileURLToPath(new URL('../../../build/Release/phase4_crash.node', import.meta.url));
const addon = createRequire(import.meta.url)(addonFile);
addon.setErrorClass(
  class CrashChildError extends Error {
    constructor(code, message) {
      super(`${code}: ${message}`);
      this.code = code;
    }
  },
);

const [op, name, id] = process.argv.slice(2);
const store = addon.open(name, 5000);
store.bindScratch(new Float64Array(2));

switch (op) {
  case 'put-small':
    store.put(id, Buffer.alloc(300, 0x5a));
    break;
  case 'put-large':
    store.put(id, Buffer.alloc(40_000, 0x5b));
    break;
  case 'delete':
    store.delete(id);
    break;
  case 'get-release':
    store.locate(id, 0);
    store.release(id);
    break;
  case 'close-holding': {
    // An unsealed object and a pin, given back by close().
    store.create('c'.repeat(40), 300); // a slot of a slab that has room: no eviction
    store.locate(id, 0);
    break;
  }
  default:
    console.error(`crash-child: unknown op ${op}`);
    process.exit(2);
}
store.close();
