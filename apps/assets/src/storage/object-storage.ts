import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'minio';
import { ASSETS_CONFIG, type AssetsConfig } from '../config';

/** The assets bucket in MinIO (or any S3-protocol server). The only code that imports the SDK. */
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
      region: config.GANTRY_S3_REGION,
      pathStyle: true,
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
}
