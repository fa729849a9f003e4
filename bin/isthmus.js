#!/usr/bin/env node
// Entry point of the `isthmus` executable: runs the compiled CLI (npm ci builds it via `prepare`).
import '../dist/cli/main.js';
