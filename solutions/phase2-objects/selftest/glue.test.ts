// Self-tests of phase 2's given glue: the get path's methods bound to one handle (see bound.ts).
import { boundMethodsTest } from './bound.js';

boundMethodsTest('phase2');
