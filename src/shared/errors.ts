// One error base class for the whole mesh, with stable codes and an optional cause.

export const ErrorCode = {
  Invalid: 'ERR_INVALID',
  NotFound: 'ERR_NOT_FOUND',
  Conflict: 'ERR_CONFLICT',
  Io: 'ERR_IO',
  AddressInUse: 'ERR_ADDRESS_IN_USE',
  Proto: 'ERR_PROTO',
  Internal: 'ERR_INTERNAL',
  Usage: 'ERR_USAGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class MeshError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshError';
    this.code = code;
  }
}

/** Converts anything thrown into a MeshError, keeping the original as `cause`. */
export function toMeshError(err: unknown, code: ErrorCode = ErrorCode.Internal): MeshError {
  if (err instanceof MeshError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'EADDRINUSE') return new MeshError(ErrorCode.AddressInUse, e.message, { cause: err });
  if (e?.code === 'ENOENT') return new MeshError(ErrorCode.NotFound, e.message, { cause: err });
  return new MeshError(code, err instanceof Error ? err.message : String(err), { cause: err });
}
