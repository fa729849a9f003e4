// Loads the test Echo service (test/fixtures/grpc/echo.proto) and gives typed client/server shapes for it.
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, Client, Metadata, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

export const ECHO_PROTO = fileURLToPath(new URL('../fixtures/grpc/echo.proto', import.meta.url));
export const HELLO_METHOD = '/isthmus.test.Echo/Hello';

export interface HelloRequest {
  message: string;
}

export interface HelloReply {
  server: string;
  message: string;
  headers: Record<string, string>;
  calls: number;
}

/** A generic grpc-js client for Echo; `Hello` is reached through `makeUnaryRequest` so no `any` leaks out. */
export type EchoClientCtor = new (address: string, credentials: ChannelCredentials, options?: ChannelOptions) => Client;

interface EchoService {
  service: ServiceDefinition;
  Client: EchoClientCtor;
}

let cached: EchoService | undefined;

/** The Echo service definition (for servers) and its client constructor (for channels), loaded once. */
export function echoService(): EchoService {
  if (cached) return cached;
  const def = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def);
  const ns = pkg['isthmus'] as Record<string, unknown> | undefined;
  const test = ns?.['test'] as Record<string, unknown> | undefined;
  const ctor = test?.['Echo'] as (EchoClientCtor & { service: ServiceDefinition }) | undefined;
  if (!ctor) throw new Error(`isthmus.test.Echo not found in ${ECHO_PROTO}`);
  cached = { service: ctor.service, Client: ctor };
  return cached;
}

const serialize = (req: HelloRequest): Buffer => {
  const def = echoService().service['Hello'];
  if (!def) throw new Error('Hello method missing');
  return def.requestSerialize(req);
};
const deserialize = (buf: Buffer): HelloReply => {
  const def = echoService().service['Hello'];
  if (!def) throw new Error('Hello method missing');
  return def.responseDeserialize(buf) as HelloReply;
};

/** One unary Hello call; resolves with the reply or rejects with the grpc-js ServiceError (it has `.code`). */
export function callHello(client: Client, req: HelloRequest, metadata: Metadata, deadlineMs: number): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      HELLO_METHOD,
      serialize,
      deserialize,
      req,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (err: ServiceError | null, reply?: HelloReply) => {
        if (err) reject(err);
        else if (reply) resolve(reply);
        else reject(new Error('Hello: empty reply'));
      },
    );
  });
}

/** True when `e` looks like a grpc-js ServiceError. */
export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}
