// Loads a phase's addon for the current implementation and wires its errors to MiniRayError.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { traceAddon } from './call-trace.js';
import { MiniRayError } from './errors.js';
import { BUILD_DIR, STATUS_DIR, currentImpl, targetName, type Impl, type PhaseId } from './phases.js';

export interface BuildStatus {
  readonly target: string;
  readonly ok: boolean;
  // Compiler diagnostics as `file:line: message` lines, empty when ok.
  readonly diagnostics: readonly string[];
  // Warnings of a build that succeeded (student targets do not stop at a warning), same form.
  readonly warnings?: readonly string[];
  readonly builtAt: string;
}

interface AddonBase {
  setErrorClass(ctor: typeof MiniRayError): void;
}

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

export function readBuildStatus(target: string): BuildStatus | undefined {
  const file = join(STATUS_DIR, `${target}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BuildStatus;
}

// MINIRAY_ADDON_DIR loads the addons from another build (the sanitizer build of tools/sanitize.ts)
// instead of build/Release.
const ADDON_DIR_ENV = 'MINIRAY_ADDON_DIR';

function otherBuild(): string | undefined {
  const dir = process.env[ADDON_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

// The file loadAddon() loads, for code that loads it by hand (e.g. in a worker thread's script).
export function addonFile(phase: PhaseId, impl: Impl = currentImpl(phase)): string {
  return join(otherBuild() ?? join(BUILD_DIR, 'Release'), `${targetName(phase, impl)}.node`);
}

export function loadAddon<T extends object>(phase: PhaseId, impl: Impl = currentImpl(phase)): T {
  const target = targetName(phase, impl);
  const cached = cache.get(target);
  if (cached !== undefined) return cached as T;
  const status = otherBuild() === undefined ? readBuildStatus(target) : undefined;
  if (status !== undefined && !status.ok) {
    throw new MiniRayError(
      'ERR_BUILD_FAILED',
      `${phase} (${impl}) does not compile:\n  ${status.diagnostics.join('\n  ')}`,
    );
  }
  const file = addonFile(phase, impl);
  if (!existsSync(file)) {
    throw new MiniRayError('ERR_BUILD_FAILED', `${phase} (${impl}) is not built: run npm run build`);
  }
  const addon = traceAddon(phase, require(file) as T & AddonBase);
  addon.setErrorClass(MiniRayError);
  cache.set(target, addon);
  return addon;
}
