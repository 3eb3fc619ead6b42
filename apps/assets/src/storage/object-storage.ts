import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'minio';
import { ASSETS_CONFIG, type AssetsConfig } from '../config';

export interface ObjectStat {
  size: number;
}

export interface RemoveResult {
  /** Keys S3 refused to remove, with its reason (a key that did not exist is not a failure). */
  failed: { key: string; error: string }[];
}

/** S3's limit of keys per DeleteObjects and per list page. */
export const S3_BATCH = 1000;

/**
 * The assets bucket in MinIO (or any S3-protocol server). The only code that imports the SDK.
 * Presigned URLs are credentials for one object: callers never log them.
 */
@Injectable()
export class ObjectStorage implements OnApplicationBootstrap {
  private readonly client: Client;
  readonly bucket: string;

  constructor(@Inject(ASSETS_CONFIG) config: AssetsConfig) {
    const endpoint = new URL(config.GANTRY_S3_ENDPOINT);
    this.client = new Client({
      endPoint: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      useSSL: endpoint.protocol === 'https:',
      accessKey: config.GANTRY_S3_ACCESS_KEY,
      secretKey: config.GANTRY_S3_SECRET_KEY,
      // Set, so presigning is local: the client asks the server for the bucket's region otherwise.
      region: config.GANTRY_S3_REGION,
      pathStyle: true,
      // The SDK's own retry writes plain-text lines to the console; callers retry instead (the
      // gateway its request, the sweeper its next pass), and logs stay JSON.
      retryOptions: { disableRetry: true },
    });
    this.bucket = config.GANTRY_S3_BUCKET;
  }

  /** Creates the bucket on an empty installation (compose also creates it up front). */
  async onApplicationBootstrap(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      await this.client.makeBucket(this.bucket).catch(async (error: unknown) => {
        if (!(await this.client.bucketExists(this.bucket))) throw error; // lost a creation race: fine
      });
    }
  }

  async isUp(): Promise<boolean> {
    try {
      return await this.client.bucketExists(this.bucket);
    } catch {
      return false;
    }
  }

  /** A URL that PUTs one body to `key`, valid for starting the PUT for `ttlSeconds`. */
  presignedPut(key: string, ttlSeconds: number): Promise<string> {
    return this.client.presignedPutObject(this.bucket, key, ttlSeconds);
  }

  /** A URL that GETs `key` (Range included), valid for `ttlSeconds`. */
  presignedGet(key: string, ttlSeconds: number): Promise<string> {
    return this.client.presignedGetObject(this.bucket, key, ttlSeconds);
  }

  /** The object's size, or null when there is no such object. */
  async stat(key: string): Promise<ObjectStat | null> {
    try {
      const stat = await this.client.statObject(this.bucket, key);
      return { size: stat.size };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Removes keys in batches of 1000 (DeleteObjects); removing a missing key succeeds. */
  async removeMany(keys: string[]): Promise<RemoveResult> {
    if (keys.length === 0) return { failed: [] };
    let results;
    try {
      results = await this.client.removeObjects(this.bucket, keys);
    } catch {
      // The batch failed as a whole: some S3-compatible servers lack DeleteObjects, and s3rver
      // races on parallel deletes in one "directory". One key at a time then.
      return this.removeOneByOne(keys);
    }
    const failed = results.flatMap((result) => {
      const error = result?.Error;
      if (!error || error.Code === 'NoSuchKey') return [];
      return [{ key: error.Key ?? '?', error: `${error.Code ?? 'Error'}: ${error.Message ?? ''}`.trim() }];
    });
    return { failed };
  }

  /** Stops at the first failure (S3 is likely down): that key and the rest are reported failed. */
  private async removeOneByOne(keys: string[]): Promise<RemoveResult> {
    for (const [index, key] of keys.entries()) {
      try {
        await this.client.removeObject(this.bucket, key);
      } catch (error) {
        if (isNotFound(error)) continue;
        const reason = error instanceof Error ? error.message : String(error);
        return { failed: keys.slice(index).map((failedKey) => ({ key: failedKey, error: reason })) };
      }
    }
    return { failed: [] };
  }

  /** Up to `max` (≤ 1000) keys under `prefix`, in key order; `more` when the listing went on. */
  async listKeys(prefix: string, max = S3_BATCH): Promise<{ keys: string[]; more: boolean }> {
    const page = await this.client.listObjectsV2Query(this.bucket, prefix, '', '', Math.min(max, S3_BATCH), '');
    const keys = page.objects.flatMap((object) => (object.name === undefined ? [] : [object.name]));
    return { keys, more: page.isTruncated };
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === 'NotFound' || code === 'NoSuchKey';
}

/**
 * One immutable object per upload, named by the upload: a new upload never overwrites the object
 * an asset record points at, so a download in flight keeps streaming the bytes it started with.
 */
export const objectKey = (repoId: string, uploadId: string) => `${repoId}/${uploadId}`;
/** Every object of a repository (its uploads, completed or not). */
export const repoPrefix = (repoId: string) => `${repoId}/`;
