// Public surface of the HTTP connection manager: createHttpHandler for HCM filter chains, plus the access-log
// formatter (shared with the TCP proxy), the timer wheel and the log sinks the process wires once.
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import { HttpConnectionManager, type HttpHandler, type HttpHandlerDeps } from './connection-manager.js';

export type { HttpHandler, HttpHandlerDeps } from './connection-manager.js';
export type { NodeInfo } from './context.js';
export { compileAccessLog, compileFormat, ISTIO_DEFAULT_FORMAT, type AccessLogContext, type AccessLogFormatter, type CompiledFormat } from './access-log.js';
export { AccessLogSinks, BufferedLogWriter, type LineSink } from './log-writer.js';
export { TimerWheel, TimerNode, type TimerTarget } from './timer-wheel.js';
export { GrpcStatus } from './local-reply.js';

/** A NetworkHandler for one HTTP connection manager filter chain. */
export function createHttpHandler(config: HttpConnectionManagerConfig, deps: HttpHandlerDeps): HttpHandler {
  return new HttpConnectionManager(config, deps);
}
