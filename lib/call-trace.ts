// Which native call a process is inside, for the test watchdog: when synchronous C++ never returns,
// the watchdog names the call ("put() of the phase1 addon") along with the test. Off unless a test
// process turns it on (testkit/watchdog/worker-setup.ts); then every function of an addon, and
// every method of the objects its functions return, marks its entry and exit in a tracer that a
// helper thread reads while the main thread is blocked. Benchmarks and programs never pay for it.

export interface CallTracer {
  // A number for a call's name, made once per name.
  register(name: string): number;
  enter(index: number): void;
  exit(): void;
}

// On globalThis, so that a test runner that loads this module twice still shares one tracer.
const KEY = Symbol.for('miniray.callTracer');
const slot = globalThis as { [KEY]?: CallTracer };

export function setCallTracer(t: CallTracer | undefined): void {
  if (t === undefined) delete slot[KEY];
  else slot[KEY] = t;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function traced(t: CallTracer, name: string, fn: AnyFunction, onResult?: (value: unknown) => void): AnyFunction {
  const index = t.register(name);
  return function (this: unknown, ...args: unknown[]): unknown {
    t.enter(index);
    try {
      const value = fn.apply(this, args);
      onResult?.(value);
      return value;
    } finally {
      t.exit();
    }
  };
}

// Wraps, in place, the functions of `addon` (and the methods of the objects they return).
export function traceAddon<T extends object>(label: string, addon: T): T {
  const t = slot[KEY];
  if (t === undefined) return addon;
  // The glue's classes define their methods read-only on the prototype: shadow them on each object
  // (`noun` names the object in the watchdog's message: "fetch() of a phase3 scheduler"). The few
  // methods bound to one handle (the get path) are the object's own properties: replaced in place.
  const patchObjectAs = (noun: string) => (value: unknown): void => {
    if (typeof value !== 'object' || value === null || !Object.isExtensible(value)) return;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null || proto === Object.prototype) return;
    const patch = (key: string, fn: unknown): void => {
      if (key === 'constructor' || typeof fn !== 'function') return;
      Object.defineProperty(value, key, { value: traced(t, `${key}() of a ${label} ${noun}`, fn as AnyFunction), writable: true, configurable: true });
    };
    for (const key of Object.getOwnPropertyNames(value)) patch(key, (value as Record<string, unknown>)[key]);
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (!Object.hasOwn(value, key)) patch(key, (proto as Record<string, unknown>)[key]);
    }
  };
  const patchObject = patchObjectAs('store');
  // A class the addon exports (create/open as its static methods): its statics are read-only, so it
  // is replaced by a stand-in that constructs the class and whose statics, traced, run on the class.
  const tracedClass = (name: string, cls: AnyFunction): AnyFunction => {
    const patchInstance = patchObjectAs(cls.name.replace(/^Native/, '').toLowerCase() || 'object');
    const standIn = function (this: unknown, ...args: unknown[]): unknown {
      return new.target === undefined ? cls.apply(this, args) : Reflect.construct(cls, args, new.target);
    };
    for (const prop of Object.getOwnPropertyNames(cls)) {
      const value = (cls as unknown as Record<string, unknown>)[prop];
      if (typeof value !== 'function') continue;
      const method = value as AnyFunction;
      const call = (...args: unknown[]): unknown => method.apply(cls, args);
      Object.defineProperty(standIn, prop, { value: traced(t, `${name}.${prop}() of the ${label} addon`, call as AnyFunction, patchInstance), writable: true, configurable: true });
    }
    Object.defineProperty(standIn, 'prototype', { value: cls.prototype });
    Object.defineProperty(standIn, 'name', { value: cls.name });
    return standIn as AnyFunction;
  };
  const isClass = (fn: AnyFunction): boolean =>
    Object.getOwnPropertyNames(fn).some((k) => !['length', 'name', 'prototype', 'arguments', 'caller'].includes(k) && typeof (fn as unknown as Record<string, unknown>)[k] === 'function');
  const record = addon as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const fn = record[key];
    if (typeof fn !== 'function') continue;
    record[key] = isClass(fn as AnyFunction) ? tracedClass(key, fn as AnyFunction) : traced(t, `${key}() of the ${label} addon`, fn as AnyFunction, patchObject);
  }
  return addon;
}
