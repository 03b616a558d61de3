// Phase 1's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase1', {
  segment: {
    id: '1.1',
    title: 'Create, open and unlink a POSIX shared memory segment with a checked header',
    points: 25,
    todo: 'ShmStore::Create, Open, CheckLayout and Unlink in phase1-shm/src/shm_store.cc',
    question:
      'What must create() refuse that open() must accept, and how does an opener know that the bytes it ' +
      'mapped are a finished store of this layout, and not someone else\'s file or a half-written header?',
    hint:
      'Read the man pages of shm_open (its flags and mode), ftruncate and mmap, and the lesson\'s section on ' +
      'the header: which field does the creator write last, and why?',
  },
  mutex: {
    id: '1.2',
    title: 'A process-shared, robust mutex with bounded waits',
    points: 25,
    todo: 'the mutex set-up in ShmStore::Create, then ShmStore::Lock, Unlock and Stats',
    question:
      'A process holding the lock is killed with SIGKILL: what happens to every process that wants the lock ' +
      'next, and how long may each of them wait?',
    hint:
      'Look up the attributes of pthread_mutexattr_* (which of them matter for a mutex in shared memory, and ' +
      'for one whose holder may die?), what EOWNERDEAD asks of the next owner, and pthread_mutex_clocklock.',
  },
  putget: {
    id: '1.3',
    title: 'put and get: bump allocation, a metadata table, zero-copy reads',
    points: 30,
    todo: 'ShmStore::Put and ShmStore::Get',
    question:
      'Another process maps the segment at another address: what may an entry of the table store to say ' +
      'where an object is, and what must be true before the new object counts?',
    hint:
      'The lesson\'s put/get section: check room in the table and the data region first, publish the ' +
      'counts last. Get returns where the bytes are, never a copy of them.',
  },
  multiprocess: {
    id: '1.4',
    title: 'Many processes at once: nothing lost, nothing corrupted',
    points: 20,
    todo: 'everything above, exercised by several Node processes attached to one segment',
    question: 'Which reads and writes of shared state happen outside the lock in your code, and what could another process do meanwhile?',
    hint:
      'Another process maps the segment at another address: store offsets, never pointers. Every read and ' +
      'write of shared state happens under the lock. `npm run stress -- phase1` reruns the suites to catch rare failures.',
  },
});
