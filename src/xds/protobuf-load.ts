// Loads protobufjs before anything else imports it, with WebAssembly hidden for that moment: its 64-bit integer
// library (long.js) instantiates a tiny WebAssembly module for multiply/divide when it loads, and the first WebAssembly
// module of a process starts V8's wasm engine: ≈ 1 MB more RSS in every proxy (measured on the bench config, 61.3 →
// 60.3 MB). protobufjs only converts Longs (decoding, printing), for which long.js's JavaScript fallback is exact.
// Every module here that imports protobufjs imports this module first; a later `import 'protobufjs'` gets this copy.
import { createRequire } from 'node:module';

const global = globalThis as { WebAssembly?: unknown };
const wasm = global.WebAssembly;
global.WebAssembly = undefined;
try {
  createRequire(import.meta.url)('protobufjs');
} finally {
  global.WebAssembly = wasm;
}
