// A downstream request body fanned out to the current upstream attempt (with backpressure) and to shadow requests,
// buffered up to a limit (Envoy's per_request_buffer_limit) so a retry can replay it; past the limit, no replay.
import { Readable } from 'node:stream';

export interface BodyOwner {
  /** Body bytes arrived (activity, for idle timeouts). */
  onBodyData(): void;
  /** The downstream finished sending the body. */
  onBodyEnd(): void;
  /** The downstream body failed (reset, codec error, client gone). */
  onBodyError(err: Error): void;
}

const kBody = Symbol('isthmus.requestBody');
type Source = Readable & { [kBody]?: RequestBody };

/** One reader of the body (an attempt or a shadow); undici consumes it like any Readable. */
export class BodyReader extends Readable {
  constructor(
    private readonly body: RequestBody,
    readonly primary: boolean,
  ) {
    super();
  }
  override _read(): void {
    this.body.onRead(this);
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.body.detach(this);
    cb(err);
  }
}

export class RequestBody {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Can a new reader still see the whole body from its start? */
  replayable: boolean;
  ended = false;
  failed: Error | null = null;
  /** Bytes received from downstream so far. */
  bytes = 0;
  private primary: BodyReader | null = null;
  private readonly shadows: BodyReader[] = [];
  private flowing = false;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
    private readonly owner: BodyOwner,
  ) {
    this.replayable = limit > 0;
  }

  /** A reader for the next attempt, or null when the body cannot be replayed any more. */
  open(): BodyReader | null {
    if (this.flowing && !this.replayable) return null;
    if (this.primary) this.primary.destroy();
    const r = new BodyReader(this, true);
    this.primary = r;
    this.replay(r);
    this.start();
    return r;
  }

  /** A reader for a shadow (mirror) request; it never slows the main request and is dropped if it lags. */
  openShadow(): BodyReader | null {
    if (this.flowing && !this.replayable) return null;
    const r = new BodyReader(this, false);
    this.shadows.push(r);
    this.replay(r);
    this.start();
    return r;
  }

  /** No more retries: free the replay buffer. */
  stopBuffering(): void {
    this.replayable = false;
    this.chunks = [];
    this.size = 0;
  }

  /** Stops reading from downstream and fails every reader (the exchange is over). */
  abort(): void {
    const src = this.source as Source;
    if (src[kBody] === this) {
      src.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted).off('close', onClose);
      src[kBody] = undefined;
      if (!this.ended) src.resume(); // let the codec discard what remains
    }
    this.primary?.destroy();
    for (const s of this.shadows.slice()) s.destroy();
    this.stopBuffering();
  }

  onRead(r: BodyReader): void {
    if (r === this.primary && this.source.isPaused() && !this.ended) this.source.resume();
  }

  detach(r: BodyReader): void {
    if (r === this.primary) {
      this.primary = null;
      if (!this.ended) this.source.pause();
      return;
    }
    const i = this.shadows.indexOf(r);
    if (i >= 0) this.shadows.splice(i, 1);
  }

  private replay(r: BodyReader): void {
    for (const c of this.chunks) r.push(c);
    if (this.failed) r.destroy(this.failed);
    else if (this.ended) r.push(null);
  }

  private start(): void {
    if (this.flowing) return;
    this.flowing = true;
    const src = this.source as Source;
    src[kBody] = this;
    src.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted).on('close', onClose);
  }

  chunk(c: Buffer): void {
    this.bytes += c.length;
    this.owner.onBodyData();
    if (this.replayable) {
      this.size += c.length;
      if (this.size > this.limit) this.stopBuffering();
      else this.chunks.push(c);
    }
    for (let i = 0; i < this.shadows.length; i++) {
      const s = this.shadows[i];
      if (s.readableLength > this.limit) s.destroy();
      else s.push(c);
    }
    const p = this.primary;
    if (!p) this.source.pause();
    else if (!p.push(c)) this.source.pause();
  }

  end(): void {
    if (this.ended || this.failed) return;
    this.ended = true;
    this.primary?.push(null);
    for (const s of this.shadows) s.push(null);
    this.owner.onBodyEnd();
  }

  fail(err: Error): void {
    if (this.ended || this.failed) return;
    this.failed = err;
    this.primary?.destroy(err);
    for (const s of this.shadows.slice()) s.destroy(err);
    this.owner.onBodyError(err);
  }
}

function onData(this: Source, c: Buffer): void {
  this[kBody]?.chunk(c);
}
function onEnd(this: Source): void {
  this[kBody]?.end();
}
function onError(this: Source, err: Error): void {
  this[kBody]?.fail(err);
}
function onAborted(this: Source): void {
  this[kBody]?.fail(new Error('downstream request aborted'));
}
function onClose(this: Source): void {
  // A request stream closed before 'end' means the downstream went away mid-body.
  this[kBody]?.fail(new Error('downstream closed before the request body ended'));
}
