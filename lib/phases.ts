// The course's phases: where each lives, which files a student edits, and its native target.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export type PhaseId = 'phase1' | 'phase2' | 'phase3' | 'phase4';
export type Impl = 'student' | 'solution';

export interface PhaseInfo {
  readonly id: PhaseId;
  readonly dir: string; // e.g. 'phase1-shm'
  readonly title: string;
  // Files the student edits, relative to the repository root: the only files graded.
  readonly studentFiles: readonly string[];
  // Files outside the phase's folder that are handed out with this phase and not before (an
  // earlier phase's answer, given from here on): a release through an earlier phase leaves them out.
  readonly given?: readonly string[];
  // Other files, and folders (ending in '/'), that first come with this phase without being an
  // answer (the runtime built on phases 2 and 3, its lesson page): a release through an earlier
  // phase leaves them out too.
  readonly arrives?: readonly string[];
}

// Every phase of the course. A student release that stops at an earlier phase lacks the later
// phases' folders: PHASES below holds the phases present in this tree.
export const COURSE_PHASES: readonly PhaseInfo[] = [
  {
    id: 'phase1',
    dir: 'phase1-shm',
    title: 'Raw shared memory and a robust process-shared mutex',
    studentFiles: ['phase1-shm/src/shm_store.h', 'phase1-shm/src/shm_store.cc'],
  },
  {
    id: 'phase2',
    dir: 'phase2-objects',
    title: 'Object management: a hash table, the Plasma lifecycle, reference counts and a free list',
    studentFiles: [
      'phase2-objects/src/object_table.h',
      'phase2-objects/src/object_table.cc',
      'phase2-objects/src/allocator.h',
      'phase2-objects/src/allocator.cc',
      'phase2-objects/src/object_store.h',
      'phase2-objects/src/object_store.cc',
    ],
    given: ['native-common/src/futex.cc', 'native-common/src/robust_mutex.cc', 'native-common/src/segment.cc'],
    // The journal (phases 2 and 4 keep one each in their segments): not an answer, first used here.
    arrives: ['native-common/include/miniray/journal.h', 'native-common/src/journal.cc'],
  },
  {
    id: 'phase3',
    dir: 'phase3-scheduler',
    title: 'The shared scheduler: a task queue and a worker table in shared memory',
    studentFiles: [
      'phase3-scheduler/src/task_queue.h',
      'phase3-scheduler/src/task_queue.cc',
      'phase3-scheduler/src/task_table.h',
      'phase3-scheduler/src/task_table.cc',
      'phase3-scheduler/src/worker_table.h',
      'phase3-scheduler/src/worker_table.cc',
      'phase3-scheduler/src/scheduler.h',
      'phase3-scheduler/src/scheduler.cc',
    ],
    arrives: ['runtime/', 'docs/putting-it-together.md', 'docs/img/runtime-sequence.svg'],
  },
  {
    id: 'phase4',
    dir: 'phase4-optimize',
    title: 'Optimisation: LRU eviction, striped locks and an object pool, each measured',
    studentFiles: [
      'phase4-optimize/src/lru_list.h',
      'phase4-optimize/src/lru_list.cc',
      'phase4-optimize/src/slab_pool.h',
      'phase4-optimize/src/slab_pool.cc',
      'phase4-optimize/src/object_store.h',
      'phase4-optimize/src/object_store.cc',
    ],
    // Phase 2's free list (its answer, with a block kind added) is in phase4-optimize/layout/,
    // handed out with this phase's folder; the journal is native-common's, given from phase 2 on.
    arrives: ['docs/img/phase4-layout.svg'],
  },
];

export const PHASES: readonly PhaseInfo[] = COURSE_PHASES.filter((p) => existsSync(join(REPO_ROOT, p.dir)));

export function phaseInfo(id: PhaseId): PhaseInfo {
  const info = PHASES.find((p) => p.id === id);
  if (info === undefined) throw new Error(`unknown phase ${id}`);
  return info;
}

// The implementation every harness loads: MINIRAY_IMPL=solution switches to solutions/. For one
// phase alone, MINIRAY_IMPL_PHASE3 (say) overrides it: the runtime's suite runs the reference
// phase 2 under the skeleton of phase 3 that way.
export function currentImpl(phase?: PhaseId): Impl {
  const own = phase === undefined ? undefined : process.env[`MINIRAY_IMPL_${phase.toUpperCase()}`];
  const v = (own === undefined || own === '' ? undefined : own) ?? process.env.MINIRAY_IMPL ?? 'student';
  if (v !== 'student' && v !== 'solution') {
    const name = own === undefined || own === '' ? 'MINIRAY_IMPL' : `MINIRAY_IMPL_${String(phase).toUpperCase()}`;
    throw new Error(`${name} must be 'student' or 'solution', got '${v}'`);
  }
  return v;
}

export function targetName(phase: PhaseId, impl: Impl): string {
  return `${phase}_${impl}`;
}

export function hasSolutions(): boolean {
  return existsSync(join(REPO_ROOT, 'solutions'));
}

export const BUILD_DIR = join(REPO_ROOT, 'build');
export const STATUS_DIR = join(BUILD_DIR, 'status');
