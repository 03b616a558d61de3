// Crash points of submit, register, fetch, complete and fail (see scenarios.ts).
//
//   MINIRAY_IMPL=solution MINIRAY_CRASH_SUITES=1 npx vitest run solutions/phase3-scheduler/crash
import { crashPointTests } from './scenarios.js';

crashPointTests(['submit', 'register', 'fetch', 'complete', 'fail']);
