// What the student release leaves out of the site and its tooling (used by tools/grading/release.ts):
// the instructors' pages, and the packaged Chromium (about 70 MB), so a student's `npm install`
// stays light. The release's browser test then uses a system Chromium, or says how to get one.
export { INSTRUCTOR_DOCS } from './site.js';

// Development dependencies the course repository has and the student release does not.
export const INSTRUCTOR_DEV_DEPENDENCIES: readonly string[] = ['@sparticuz/chromium'];

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface LockPackage {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface Lockfile {
  lockfileVersion?: number;
  packages?: Record<string, LockPackage>;
  [key: string]: unknown;
}

function drop(deps: Record<string, string> | undefined, names: readonly string[]): void {
  if (deps === undefined) return;
  for (const n of names) delete deps[n];
}

// package.json without the named dependencies.
export function withoutDependencies(pkg: PackageJson, names: readonly string[]): PackageJson {
  const out = structuredClone(pkg);
  drop(out.dependencies, names);
  drop(out.devDependencies, names);
  drop(out.optionalDependencies, names);
  return out;
}

// package-lock.json (lockfile v2 or v3) without the named root dependencies and every package only
// they needed, so `npm ci` in the release installs exactly the rest.
export function pruneLockfile(lock: Lockfile, names: readonly string[]): Lockfile {
  const out = structuredClone(lock);
  const packages = out.packages;
  if (packages === undefined) throw new Error('package-lock.json has no "packages" section (lockfile v1 is not supported)');
  const root = packages[''];
  if (root === undefined) throw new Error('package-lock.json has no root package');
  drop(root.dependencies, names);
  drop(root.devDependencies, names);
  drop(root.optionalDependencies, names);
  // Node's resolution: a dependency of the package at `from` is the nearest node_modules/<name>
  // walking up from it.
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (packages[candidate] !== undefined) return candidate;
      if (dir === '') return undefined;
      const cut = dir.lastIndexOf('/node_modules/');
      dir = cut === -1 ? '' : dir.slice(0, cut);
    }
  };
  const reachable = new Set<string>(['']);
  const queue = [''];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    const p = packages[at];
    if (p === undefined) continue;
    const deps = { ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies, ...(at === '' ? p.devDependencies : {}) };
    for (const name of Object.keys(deps)) {
      const found = resolve(at, name);
      if (found !== undefined && !reachable.has(found)) {
        reachable.add(found);
        queue.push(found);
      }
    }
  }
  // Workspaces and linked packages are kept as they are; this course has none.
  for (const key of Object.keys(packages)) {
    if (!reachable.has(key) && !(packages[key]?.link === true)) delete packages[key];
  }
  return out;
}

// The release's package.json and package-lock.json, as text, from the course's.
export function studentPackageJson(text: string): string {
  return `${JSON.stringify(withoutDependencies(JSON.parse(text) as PackageJson, INSTRUCTOR_DEV_DEPENDENCIES), null, 2)}\n`;
}

export function studentLockfile(text: string): string {
  return `${JSON.stringify(pruneLockfile(JSON.parse(text) as Lockfile, INSTRUCTOR_DEV_DEPENDENCIES), null, 2)}\n`;
}
