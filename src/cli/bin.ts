#!/usr/bin/env node
/**
 * The `athena-rx` executable. On glibc Linux, `classify` runs in a child process started with
 * malloc tunables that bound its memory and, on Node 20, the flag that frees decoded pixels
 * promptly (see `cli/relaunch`); everything else, and `classify` where that does not apply, runs
 * `cli/main` in this process.
 */
import { planRelaunch, relaunch, runtimeHasTransfer, runtimeLibc } from './relaunch.js';

const plan = planRelaunch(process.argv, process.env, runtimeLibc(), runtimeHasTransfer());
if (!plan.relaunch || !(await relaunch(plan.env, plan.flags))) await import('./main.js');
