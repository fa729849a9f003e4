// Plain (non-xDS) gRPC Echo servers on loopback for end-to-end tests: each names itself, echoes the metadata it saw,
// counts calls, and can be told to fail its next K calls.
import grpc from '@grpc/grpc-js';
import type { Metadata, ServerUnaryCall, sendUnaryData, status as Status } from '@grpc/grpc-js';
import { echoService } from './echo-proto.js';
import type { HelloReply, HelloRequest } from './echo-proto.js';

export interface EchoServer {
  /** The name every reply carries, e.g. "reviews-v2". */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Calls received so far (including failed ones). */
  readonly calls: number;
  /** Fail the next `k` calls with `code` (default UNAVAILABLE). */
  failNext(k: number, code?: Status): void;
  /** Reset the call counter to 0 (and cancel pending failures). */
  reset(): void;
  close(): Promise<void>;
}

function metadataToHeaders(md: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(md.getMap())) {
    if (key.endsWith('-bin')) continue;
    out[key] = md.get(key).map((v) => (typeof v === 'string' ? v : v.toString('base64'))).join(',');
  }
  return out;
}

/** Starts one Echo server on `host` (default 127.0.0.1), port 0. */
export async function startEchoServer(name: string, host = '127.0.0.1'): Promise<EchoServer> {
  const server = new grpc.Server();
  let calls = 0;
  let failures = 0;
  let failCode: Status = grpc.status.UNAVAILABLE;
  server.addService(echoService().service, {
    Hello: (call: ServerUnaryCall<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) => {
      calls++;
      if (failures > 0) {
        failures--;
        callback({ code: failCode, details: `${name}: injected failure` });
        return;
      }
      callback(null, { server: name, message: call.request.message, headers: metadataToHeaders(call.metadata), calls });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    name,
    host,
    port,
    get calls() {
      return calls;
    },
    failNext(k: number, code: Status = grpc.status.UNAVAILABLE) {
      failures = k;
      failCode = code;
    },
    reset() {
      calls = 0;
      failures = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** Starts one server per name (sequentially, so ports are bound before returning). */
export async function startEchoServers(names: string[], host = '127.0.0.1'): Promise<EchoServer[]> {
  const out: EchoServer[] = [];
  try {
    for (const n of names) out.push(await startEchoServer(n, host));
  } catch (e) {
    await Promise.all(out.map((s) => s.close()));
    throw e;
  }
  return out;
}
