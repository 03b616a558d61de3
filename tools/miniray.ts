// The `miniray` debugging CLI: what is in /dev/shm, who maps it, and what its header says.
//
//   npm run miniray -- ls            segments that look like Mini-Ray's, with size, owner and users
//   npm run miniray -- dump NAME     a segment's header fields and first bytes
//   npm run miniray -- check NAME    the segment checker for the segment's kind (by its magic): every
//                                    invariant that does not hold; exit status 1 when one does not
//   npm run miniray -- clean [--force]
//                                    remove Mini-Ray segments that no process maps (--force: all)
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import type { CheckReportBase, CheckedClientBase } from '../lib/store.js';
import { SHM_DIR, TEST_PREFIX } from '../testkit/segments.js';

// The first 8 bytes of each phase's segment (little-endian), see each phase's layout header.
const MAGICS: Readonly<Record<string, string>> = {
  MRAYSHM1: 'phase 1 store',
  MRAYOBJ2: 'phase 2 store',
  MRAYSCH3: 'phase 3 scheduler',
  MRAYOBJ4: 'phase 4 store',
};

interface CheckResult {
  readonly problems: readonly string[];
  readonly summary: string;
}

// A release through an earlier phase lacks the later phases' folders: their harnesses are imported
// by a specifier the typecheck does not follow, and typed here by the fields this tool reads.
// The checkers' reports of phases 2 and 4 share their fields (lib/store.ts, in every release).
interface Phase2Report extends CheckReportBase<CheckedClientBase & { readonly unsealed: number }> {
  readonly openTransaction: number;
}
interface Phase3Report {
  readonly problems: readonly string[];
  readonly recoveryPending: boolean;
  readonly head: number;
  readonly tail: number;
  readonly queued: number;
  readonly leased: number;
  readonly done: number;
  readonly failed: number;
  readonly freeRecords: number;
  readonly liveWorkers: number;
  readonly busyWorkers: number;
  readonly deadWorkers: number;
}
interface Phase4Report extends CheckReportBase {
  readonly stripes: number;
  readonly slabs: number;
  readonly poolSlots: number;
  readonly lru: number;
  readonly lruPinned: number;
}
async function harness<T>(dir: string): Promise<T> {
  const specifier = `../${dir}/index.js`;
  return (await import(specifier)) as T;
}

// The segment checker of each kind of segment, by magic (loaded lazily: only that phase's addon).
const CHECKERS: Readonly<Record<string, (name: string) => Promise<CheckResult>>> = {
  // phase2-objects/layout/checker.h: the table, the blocks, the free list, the owners.
  MRAYOBJ2: async (name) => {
    const { ObjectStore } = await harness<{ ObjectStore: { check(name: string): Phase2Report } }>('phase2-objects');
    const r = ObjectStore.check(name);
    const notes = [
      ...(r.holderDied ? ["the lock's last holder died holding it: the next operation repairs"] : []),
      ...(r.openTransaction > 0 ? [`an unfinished transaction of ${r.openTransaction} write(s), checked as it will be once undone`] : []),
      ...(r.repairPending && !r.holderDied ? ['a repair is pending: the next operation runs it'] : []),
    ];
    const clients = r.clients.map(
      (c) => `client ${c.slot}: pid ${c.pid} ${c.alive ? 'alive' : 'gone (reclaimable)'}, ${c.pins} pins, ${c.unsealed} unsealed`,
    );
    const summary = [
      `${r.objects} objects (${r.sealed} sealed), ${r.tombstones} tombstones in ${r.slots} slots; ${r.blocks} blocks, ${r.freeBlocks} free; ${r.usedBytes} of ${r.capacity} bytes used; ${r.pinned} pins`,
      ...notes,
      ...clients,
    ].join('\n  ');
    return { problems: r.problems, summary };
  },
  // phase3-scheduler/layout/checker.h: the ring, the task records, the workers.
  MRAYSCH3: async (name) => {
    const { Scheduler } = await harness<{ Scheduler: { check(name: string): Phase3Report } }>('phase3-scheduler');
    const r = Scheduler.check(name);
    const summary = r.recoveryPending
      ? 'a process died holding the lock: the next operation repairs it (nothing checked)'
      : `ring head ${r.head} tail ${r.tail}; tasks: ${r.queued} queued, ${r.leased} leased, ${r.done} done, ${r.failed} failed, ${r.freeRecords} records free; workers: ${r.liveWorkers} live (${r.busyWorkers} busy), ${r.deadWorkers} dead`;
    return { problems: r.problems, summary };
  },
  // phase4-optimize/layout/checker.h: the blocks, the free list, the slabs, the stripes, the owners,
  // the LRU list.
  MRAYOBJ4: async (name) => {
    const { ObjectStore } = await harness<{ ObjectStore: { check(name: string): Phase4Report } }>('phase4-optimize');
    const r = ObjectStore.check(name);
    if (r.repairPending) {
      const why = r.holderDied ? "a lock's last holder died holding it" : 'a repair is pending';
      return { problems: r.problems, summary: `${why}: the next operation repairs it (nothing checked)` };
    }
    const clients = r.clients.map((c) => `client ${c.slot}: pid ${c.pid} ${c.alive ? 'alive' : 'gone (reclaimable)'}, ${c.pins} pins`);
    const summary = [
      `${r.objects} objects (${r.sealed} sealed, ${r.lru} on the LRU list, ${r.lruPinned} pinned ones left on it), ${r.tombstones} tombstones in ${r.stripes} stripes of ${r.slots / r.stripes} slots; ${r.blocks} blocks, ${r.freeBlocks} free, ${r.slabs} slabs holding ${r.poolSlots} objects; ${r.usedBytes} of ${r.capacity} bytes used; ${r.pinned} pins`,
      ...clients,
    ].join('\n  ');
    return { problems: r.problems, summary };
  },
};

export interface SegmentInfo {
  readonly name: string; // '/miniray-demo'
  readonly bytes: number;
  readonly mode: string;
  readonly magic: string; // printable magic or '?'
  readonly kind: string; // what the magic says, or 'unknown'
  readonly version: number | undefined;
  readonly mappedBy: readonly number[]; // pids with the segment mapped
}

function readHead(path: string, n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

// Pids whose memory maps include /dev/shm/<file> (from /proc/<pid>/maps).
function mappers(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let maps: string;
    try {
      maps = readFileSync(`/proc/${entry}/maps`, 'utf8');
    } catch {
      continue;
    }
    const seen = new Set<string>();
    for (const line of maps.split('\n')) {
      const at = line.indexOf(`${SHM_DIR}/`);
      if (at < 0) continue;
      const file = line.slice(at + SHM_DIR.length + 1).replace(/ \(deleted\)$/, '');
      if (seen.has(file)) continue;
      seen.add(file);
      out.set(file, [...(out.get(file) ?? []), Number(entry)]);
    }
  }
  return out;
}

export function listSegments(all = false): SegmentInfo[] {
  if (!existsSync(SHM_DIR)) return [];
  const users = mappers();
  const out: SegmentInfo[] = [];
  for (const file of readdirSync(SHM_DIR).sort()) {
    const path = `${SHM_DIR}/${file}`;
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const head = st.size > 0 ? readHead(path, 12) : Buffer.alloc(0);
    const magic = head.length >= 8 ? head.subarray(0, 8).toString('latin1') : '';
    const known = MAGICS[magic];
    const ours = known !== undefined || /^(miniray|mray)/i.test(file);
    if (!ours && !all) continue;
    out.push({
      name: `/${file}`,
      bytes: st.size,
      mode: (st.mode & 0o777).toString(8).padStart(4, '0'),
      magic: /^[\x20-\x7e]{8}$/.test(magic) ? magic : '?',
      kind: known ?? (file.startsWith(TEST_PREFIX) ? 'test segment' : 'unknown'),
      version: head.length >= 12 ? head.readUInt32LE(8) : undefined,
      mappedBy: users.get(file) ?? [],
    });
  }
  return out;
}

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function cmdLs(all: boolean): number {
  const segs = listSegments(all);
  if (segs.length === 0) {
    console.log(`no Mini-Ray segments in ${SHM_DIR}`);
    return 0;
  }
  const rows = segs.map((s) => [
    s.name,
    human(s.bytes),
    s.mode,
    s.kind,
    s.version === undefined ? '-' : String(s.version),
    s.mappedBy.length === 0 ? 'nobody' : s.mappedBy.join(','),
  ]);
  const head = ['name', 'size', 'mode', 'kind', 'version', 'mapped by'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
  return 0;
}

function cmdDump(name: string | undefined): number {
  if (name === undefined || !name.startsWith('/')) {
    console.error('usage: npm run miniray -- dump /segment-name');
    return 2;
  }
  const path = `${SHM_DIR}${name}`;
  if (!existsSync(path)) {
    console.error(`no segment ${name} in ${SHM_DIR}`);
    return 1;
  }
  const head = readHead(path, 256);
  const magic = head.subarray(0, 8).toString('latin1');
  console.log(`${name}: ${human(statSync(path).size)}, magic '${magic.replace(/[^\x20-\x7e]/g, '.')}' (${MAGICS[magic] ?? 'unknown'})`);
  if (head.length >= 12) console.log(`layout version: ${head.readUInt32LE(8)}`);
  if (magic === 'MRAYSHM1' && head.length >= 80) {
    // The phase-1 reference header: see solutions/phase1-shm/src/shm_store.h (student layouts may differ).
    const u64 = (off: number): bigint => head.readBigUInt64LE(off);
    console.log(`state ${head.readUInt32LE(12)}  segment_size ${u64(16)}  capacity ${u64(24)}  max_objects ${u64(32)}`);
    console.log(`table_offset ${u64(40)}  data_offset ${u64(48)}  next_offset ${u64(56)}  object_count ${u64(64)}`);
  }
  for (let off = 0; off < head.length; off += 16) {
    const row = head.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    console.log(`${off.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return 0;
}

// The checker's verdict on segment `name` (which must exist), with the kind its magic names;
// undefined when no checker knows that magic.
export async function checkSegment(name: string): Promise<(CheckResult & { readonly kind: string }) | undefined> {
  const magic = readHead(`${SHM_DIR}${name}`, 8).toString('latin1');
  const checker = CHECKERS[magic];
  if (checker === undefined) return undefined;
  return { ...(await checker(name)), kind: MAGICS[magic] ?? 'unknown' };
}

async function cmdCheck(name: string | undefined): Promise<number> {
  if (name === undefined || !name.startsWith('/')) {
    console.error('usage: npm run miniray -- check /segment-name');
    return 2;
  }
  const path = `${SHM_DIR}${name}`;
  if (!existsSync(path)) {
    console.error(`no segment ${name} in ${SHM_DIR}`);
    return 1;
  }
  const r = await checkSegment(name);
  if (r === undefined) {
    const magic = readHead(path, 8).toString('latin1');
    console.error(`${name}: no checker for magic '${magic.replace(/[^\x20-\x7e]/g, '.')}' (${MAGICS[magic] ?? 'unknown kind'})`);
    return 2;
  }
  console.log(`${name} (${r.kind}): ${r.summary}`);
  if (r.problems.length === 0) {
    console.log('consistent: every invariant holds');
    return 0;
  }
  console.log(`${r.problems.length} problem(s):`);
  for (const p of r.problems) console.log(`  - ${p}`);
  return 1;
}

function cmdClean(force: boolean): number {
  const segs = listSegments();
  let removed = 0;
  for (const s of segs) {
    if (s.mappedBy.length > 0 && !force) {
      console.log(`kept ${s.name}: mapped by pid ${s.mappedBy.join(', ')} (use --force to remove anyway)`);
      continue;
    }
    rmSync(`${SHM_DIR}${s.name}`, { force: true });
    console.log(`removed ${s.name}`);
    removed += 1;
  }
  console.log(`${removed} segment(s) removed`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check':
      return cmdCheck(rest[0]);
    case 'ls':
      return cmdLs(rest.includes('--all'));
    case 'dump':
      return cmdDump(rest[0]);
    case 'clean':
      return cmdClean(rest.includes('--force'));
    default:
      console.log('usage: npm run miniray -- ls [--all] | dump /name | check /name | clean [--force]');
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `npm run miniray -- dump X | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
