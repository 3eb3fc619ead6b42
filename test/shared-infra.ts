import type { PostgresHandle } from '../libs/platform/src/infra/postgres';
import type { S3Handle } from '../libs/platform/src/infra/s3';

export const SHARED_INFRA = '__gantryTestInfra';

export interface SharedInfra {
  dir: string;
  postgres: PostgresHandle;
  s3: S3Handle;
}
