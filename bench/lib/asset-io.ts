import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';

export const MIB = 1024 * 1024;

/**
 * One random MiB, sent over and over: a body of any size without holding it in memory, and random
 * so nothing on the way (or S3) can take a shortcut on it. The Buffer is never written to after
 * this, so the same one may sit in several socket queues at once.
 */
const CHUNK = randomBytes(MIB);

/** A body of `bytes` bytes (CHUNK repeated, the last one cut short), produced as it is read. */
export function bodyStream(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    highWaterMark: MIB,
    read() {
      if (left === 0) return void this.push(null);
      const chunk = left >= MIB ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

const digests = new Map<number, string>();

/** SHA-256 of bodyStream(bytes), computed once per size, before anything is timed. */
export function bodySha256(bytes: number): string {
  let digest = digests.get(bytes);
  if (digest === undefined) {
    const hash = createHash('sha256');
    for (let left = bytes; left > 0; left -= MIB) hash.update(left >= MIB ? CHUNK : CHUNK.subarray(0, left));
    digest = hash.digest('hex');
    digests.set(bytes, digest);
  }
  return digest;
}

/** PUTs a generated body with its Content-Length, as any client would; the answer's status and text. */
export async function putBody(url: string, bytes: number, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await request(url, {
    method: 'PUT',
    body: bodyStream(bytes),
    headers: { ...headers, 'content-length': String(bytes), 'content-type': 'application/octet-stream' },
  });
  return { status: response.statusCode, text: await response.body.text() };
}

/**
 * GETs a body and counts its bytes; hashes them only when asked (`verify`): hashing a GiB costs
 * this process, which also runs s3rver, a second or so of CPU, so timed downloads do not.
 */
export async function getBody(url: string, headers: Record<string, string> = {}, verify = false): Promise<{ status: number; bytes: number; sha256: string | null }> {
  const response = await request(url, { method: 'GET', headers });
  const hash = verify ? createHash('sha256') : null;
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hash?.update(chunk);
  }
  return { status: response.statusCode, bytes, sha256: hash ? hash.digest('hex') : null };
}
