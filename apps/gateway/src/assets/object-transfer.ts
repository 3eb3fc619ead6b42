import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { request } from 'undici';
import { GantryError } from '#contracts';
import type { ByteRange } from './http-ranges';

/** How a streamed upload ended. */
export type UploadOutcome = { ok: true; size: number; sha256: string } | { ok: false; error: GantryError; clientGone: boolean };

/**
 * Streams an upload's body to its presigned PUT with backpressure (undici reads from the request
 * as fast as S3 takes it), hashing SHA-256 and counting bytes on the way. More bytes than declared
 * stop it with 413; fewer (the client went away) fail it: S3 then never completes the object.
 */
export async function streamToObject(body: IncomingMessage, url: string, declared: number, contentType: string): Promise<UploadOutcome> {
  const hash = createHash('sha256');
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > declared) return callback(new GantryError('too_large', `the body is longer than its Content-Length (${declared})`));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  body.on('error', (error) => counted.destroy(error));
  body.on('aborted', () => counted.destroy(new Error('client went away')));
  try {
    const response = await request(url, {
      method: 'PUT',
      body: body.pipe(counted),
      headers: { 'content-length': String(declared), 'content-type': contentType },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) return failed(storageError(`storage refused the upload (${response.statusCode}): ${text.slice(0, 200)}`), false);
  } catch (error) {
    if (error instanceof GantryError) return failed(error, false);
    const clientGone = body.destroyed || body.readableAborted || !body.complete;
    return failed(clientGone ? new GantryError('invalid_request', 'the upload was interrupted') : storageError(String(error)), clientGone);
  }
  if (size !== declared) return failed(new GantryError('invalid_request', `the body had ${size} bytes, not its Content-Length ${declared}`), true);
  return { ok: true, size, sha256: hash.digest('hex') };
}

/** The object's bytes (a range of them): status, S3's length/range headers and the body stream. */
export async function openObject(url: string, range: ByteRange | null): Promise<{ status: number; body: Readable }> {
  const response = await request(url, { method: 'GET', headers: range ? { range: `bytes=${range.start}-${range.end}` } : {} }).catch((error: unknown) => {
    throw storageError(String(error));
  });
  if (response.statusCode !== 200 && response.statusCode !== 206) {
    await response.body.dump();
    throw storageError(`storage answered ${response.statusCode}`);
  }
  return { status: response.statusCode, body: response.body };
}

function storageError(detail: string): GantryError {
  return new GantryError('service_unavailable', 'object storage is unavailable', undefined, { cause: new Error(detail) });
}

function failed(error: GantryError, clientGone: boolean): UploadOutcome {
  return { ok: false, error, clientGone };
}
