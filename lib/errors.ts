// The one error class every phase throws. The native glue constructs it (see
// native-common/src/napi_util.cc); TypeScript code throws it too, with the same codes.

export const ERROR_CODES = [
  'ERR_SHM_FULL',
  'ERR_TABLE_FULL',
  'ERR_OBJECT_NOT_FOUND',
  'ERR_OBJECT_EXISTS',
  'ERR_OBJECT_NOT_SEALED',
  'ERR_OBJECT_SEALED',
  'ERR_OBJECT_IN_USE',
  'ERR_SEGMENT_NOT_FOUND',
  'ERR_SEGMENT_EXISTS',
  'ERR_BAD_NAME',
  'ERR_LAYOUT_MISMATCH',
  'ERR_SEGMENT_CORRUPT',
  'ERR_LOCK_TIMEOUT',
  'ERR_DEADLOCK',
  'ERR_TIMEOUT',
  'ERR_QUEUE_FULL',
  'ERR_INVALID_ARGUMENT',
  'ERR_CLOSED',
  'ERR_NOT_IMPLEMENTED',
  'ERR_SYSTEM',
  'ERR_BUILD_FAILED',
  'ERR_CANCELLED',
  'ERR_TASK_NOT_FOUND',
  'ERR_NOT_LEASED',
  'ERR_WORKER_NOT_FOUND',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class MiniRayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'MiniRayError';
    this.code = code;
  }
}

export function isMiniRayError(value: unknown, code?: ErrorCode): value is MiniRayError {
  return value instanceof MiniRayError && (code === undefined || value.code === code);
}
