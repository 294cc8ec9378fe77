#!/usr/bin/env node
/**
 * The `athena-rx` executable. On glibc Linux, `classify` runs in a child process started with
 * malloc tunables that bound its memory (see `cli/relaunch`); everything else, and `classify` where
 * that does not apply, runs `cli/main` in this process.
 */
import { planRelaunch, relaunch, runtimeLibc } from './relaunch.js';

const plan = planRelaunch(process.argv, process.env, runtimeLibc());
if (!plan.relaunch || !(await relaunch(plan.env))) await import('./main.js');
