// Which Chromium the docs browser test drives, in this order:
//
//   1. CHROMIUM_PATH, when set (a missing file there is an error, not a reason to look elsewhere);
//   2. a system Chromium (Debian's `chromium`, Ubuntu's `chromium-browser`);
//   3. the Chromium shipped inside the npm package @sparticuz/chromium (a devDependency of the course
//      repository, left out of the student release), unpacked once into node_modules/.cache/.
//
// MINIRAY_CHROMIUM=system uses only 2, MINIRAY_CHROMIUM=packaged only 3 (to try the fallback on a
// machine that has a system Chromium); CHROMIUM_PATH wins over both.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';

import { REPO_ROOT } from '../../lib/phases.js';

export const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];
export const PACKAGED_CHROMIUM = '@sparticuz/chromium';

export interface FoundBrowser {
  readonly found: true;
  readonly executablePath: string;
  readonly source: 'CHROMIUM_PATH' | 'system' | 'packaged';
  // Added to the browser's environment: the packaged build brings its own NSS libraries and fonts.
  readonly env: Readonly<Record<string, string>>;
  readonly description: string;
}

export interface NoBrowser {
  readonly found: false;
  readonly looked: readonly string[]; // what was tried, for the message
  readonly error?: string; // set when something exists but could not be used
}

type Mode = 'auto' | 'system' | 'packaged';

// A regular file this user may execute (not a directory, a device or a dangling link).
function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function mode(): Mode {
  const m = process.env.MINIRAY_CHROMIUM ?? 'auto';
  if (m === '' || m === 'auto') return 'auto';
  if (m === 'system' || m === 'packaged') return m;
  throw new Error(`MINIRAY_CHROMIUM='${m}': use system, packaged or auto`);
}

// The installed package's root folder, or undefined when it is not installed (the student release).
function packageRoot(): string | undefined {
  let entry: string;
  try {
    entry = createRequire(join(REPO_ROOT, 'package.json')).resolve(PACKAGED_CHROMIUM);
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGED_CHROMIUM) return dir;
  }
  return undefined;
}

async function unbrotli(from: string, to: string, mode: number): Promise<void> {
  await pipeline(createReadStream(from), createBrotliDecompress(), createWriteStream(to, { mode }));
}

async function untarBrotli(from: string, intoDir: string): Promise<void> {
  mkdirSync(intoDir, { recursive: true });
  const tarFile = `${intoDir}.tar`;
  await unbrotli(from, tarFile, 0o600);
  const r = spawnSync('tar', ['-xf', tarFile, '-C', intoDir, '--no-same-owner'], { encoding: 'utf8' });
  rmSync(tarFile, { force: true });
  if (r.status !== 0) throw new Error(`tar could not unpack ${from}: ${r.error?.message ?? r.stderr.trim()}`);
}

// Unpacks the package's brotli archives once per version, into a folder that appears whole or not at
// all (a rename), so two test runs at once never see half a browser.
async function unpack(root: string): Promise<string> {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const dest = join(REPO_ROOT, 'node_modules', '.cache', 'miniray-chromium', version);
  if (isExecutable(join(dest, 'chromium'))) return dest;
  const staging = `${dest}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const bin = join(root, 'bin');
    await Promise.all([
      unbrotli(join(bin, 'chromium.br'), join(staging, 'chromium'), 0o755),
      untarBrotli(join(bin, 'fonts.tar.br'), join(staging, 'fonts')),
      // NSS and friends, built for Amazon Linux 2023 (glibc 2.34): a machine without a system
      // Chromium usually has none of them.
      untarBrotli(join(bin, 'al2023.tar.br'), join(staging, 'al2023')),
    ]);
    // The package's fonts.conf names Lambda's folders; this one names ours (used only on a machine
    // without a fontconfig of its own).
    writeFileSync(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dest, 'fonts', 'fonts')}</dir>\n  <cachedir>${join(dest, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(staging, dest);
    } catch (e) {
      // Another run finished first: use its copy.
      if (!existsSync(join(dest, 'chromium'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dest;
}

function packagedEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {
    LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter((p) => p !== undefined && p !== '').join(':'),
  };
  // Without a system fontconfig, use the fonts that come with the package (Open Sans), so text renders.
  if (!existsSync('/etc/fonts/fonts.conf')) env.FONTCONFIG_FILE = join(dir, 'fonts.conf');
  return env;
}

export async function findChromium(): Promise<FoundBrowser | NoBrowser> {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit !== undefined && explicit !== '') {
    if (isExecutable(explicit)) return { found: true, executablePath: explicit, source: 'CHROMIUM_PATH', env: {}, description: `CHROMIUM_PATH=${explicit}` };
    return { found: false, looked: [`CHROMIUM_PATH=${explicit}`], error: `CHROMIUM_PATH names ${explicit}, which is not an executable file` };
  }
  const m = mode();
  const looked: string[] = [];
  if (m !== 'packaged') {
    const system = SYSTEM_CHROMIUM.find(isExecutable);
    if (system !== undefined) return { found: true, executablePath: system, source: 'system', env: {}, description: system };
    looked.push(...SYSTEM_CHROMIUM);
  }
  if (m !== 'system') {
    looked.push(`the npm package ${PACKAGED_CHROMIUM}`);
    const root = packageRoot();
    if (root !== undefined) {
      try {
        const dir = await unpack(root);
        const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
        return {
          found: true,
          executablePath: join(dir, 'chromium'),
          source: 'packaged',
          env: packagedEnv(dir),
          description: `${PACKAGED_CHROMIUM} ${version}`,
        };
      } catch (e) {
        return { found: false, looked, error: `${PACKAGED_CHROMIUM} is installed but could not be unpacked: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
  }
  return { found: false, looked };
}

// In the course repository: the version the release's hint names must be the one package.json pins.
export function packagedVersionProblem(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const range = pkg.devDependencies?.[PACKAGED_CHROMIUM];
  if (range === undefined) return undefined;
  return range.replace(/^[~^]/, '') === PACKAGED_CHROMIUM_VERSION
    ? undefined
    : `package.json pins ${PACKAGED_CHROMIUM}@${range} but tools/docs/chromium.ts tells students to install ${PACKAGED_CHROMIUM_VERSION}: update PACKAGED_CHROMIUM_VERSION`;
}

// What to tell someone who has no browser.
export function howToGetChromium(none: NoBrowser): string {
  return [
    ...(none.error === undefined ? [] : [none.error]),
    `no Chromium found (looked for ${none.looked.join(', ')}). To get one, either:`,
    '    sudo apt-get install chromium                (Debian; Ubuntu: chromium-browser)',
    `    npm install --no-save ${PACKAGED_CHROMIUM}@${packagedRange()}   (a headless Chromium inside an npm package, about 70 MB)`,
    '  or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  ].join('\n');
}

// The version range the course repository pins (so the hint installs what the course was tested with).
function packagedRange(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    const range = pkg.devDependencies?.[PACKAGED_CHROMIUM];
    if (range !== undefined) return range.replace(/^[~^]/, '');
  } catch {
    // fall through
  }
  return PACKAGED_CHROMIUM_VERSION;
}

// Kept in step with package.json's devDependency; the release drops the dependency but not this hint.
export const PACKAGED_CHROMIUM_VERSION = '143.0.4';
