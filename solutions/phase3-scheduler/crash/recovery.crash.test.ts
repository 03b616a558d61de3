// Crash points of wait, reap, close and of Recover itself (see scenarios.ts).
//
//   MINIRAY_IMPL=solution MINIRAY_CRASH_SUITES=1 npx vitest run solutions/phase3-scheduler/crash
import { crashPointTests } from './scenarios.js';

crashPointTests(['wait', 'reap', 'close', 'recover']);
