#!/usr/bin/env node
// A committed shim, so the bin exists before the first build and pnpm can link it.
import '../dist/main.js';
