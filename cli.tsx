#!/usr/bin/env node
// kubedeck's entry point: argument parsing and dispatch only (source/commands/main.ts).
import {main} from './source/commands/main.js';

const exitCode = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env});
process.exitCode = exitCode;
