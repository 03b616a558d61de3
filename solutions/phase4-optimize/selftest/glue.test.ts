// Self-tests of phase 4's given glue: its get path is phase 2's (native-common's store_handle.h),
// so the same test holds (solutions/phase2-objects/selftest/bound.ts).
import { boundMethodsTest } from '../../phase2-objects/selftest/bound.js';

boundMethodsTest('phase4');
