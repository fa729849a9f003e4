// Loads protobufjs before anything else imports it, with WebAssembly hidden for that moment: its 64-bit integer
// library (long.js) instantiates a tiny WebAssembly module for multiply/divide when it loads, and the first WebAssembly
// module of a process starts V8's wasm engine: ≈ 1 MB more RSS in every proxy (measured on the bench config, 61.3 →
// 60.3 MB). protobufjs only converts Longs (decoding, printing), for which long.js's JavaScript fallback is exact.
// Every module here that imports protobufjs imports this module first; a later `import 'protobufjs'` gets this copy.
// Only the light build (reflection and coders, no .proto parser) is loaded here: a process that finds the compact
// JSON cache (proto.ts) never parses .proto text, and the parser, its tokenizer and protobufjs's bundled descriptor
// definitions cost ≈ 0.3 MB of heap. proto.ts adds the parser (`require('protobufjs')`) only when it has to parse.
import { createRequire } from 'node:module';

const global = globalThis as { WebAssembly?: unknown };
const wasm = global.WebAssembly;
global.WebAssembly = undefined;
try {
  createRequire(import.meta.url)('protobufjs/light');
} finally {
  global.WebAssembly = wasm;
}
