import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '#platform';
import { loadAssetsConfig, uploadDeadlineSeconds } from './config';

const BASE = { GANTRY_DATABASE_URL: 'postgres://x@y/z', GANTRY_S3_ENDPOINT: 'http://127.0.0.1:9000', GANTRY_S3_ACCESS_KEY: 'k', GANTRY_S3_SECRET_KEY: 's' };
const problems = (env: Record<string, string>) => {
  try {
    loadAssetsConfig({ ...BASE, ...env });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
};

describe('assets configuration', () => {
  it('defaults: 5 GiB, URLs for 15 min (upload) and 5 min (download), garbage after 15 min, a sweep every 10 s', () => {
    const config = loadAssetsConfig(BASE);
    expect(config).toMatchObject({
      GANTRY_ASSET_MAX_BYTES: 5 * 1024 ** 3, GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS: 900,
      GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS: 300, GANTRY_ASSET_GARBAGE_DELAY_SECONDS: 900, GANTRY_ASSET_SWEEP_MS: 10_000,
    });
    expect(uploadDeadlineSeconds(config)).toBe(3600);
    expect(uploadDeadlineSeconds(loadAssetsConfig({ ...BASE, GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS: '7200' }))).toBe(7200);
  });

  it('lists every bad variable at once', () => {
    const found = problems({ GANTRY_ASSET_MAX_BYTES: String(6 * 1024 ** 3), GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS: '0', GANTRY_ASSET_SWEEP_MS: 'often' }).join('\n');
    expect(found).toMatch(/GANTRY_ASSET_MAX_BYTES: at most 5 GiB/);
    expect(found).toContain('GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS');
    expect(found).toContain('GANTRY_ASSET_SWEEP_MS');
  });

  it('refuses an upload deadline shorter than its URL; a garbage delay of 0 is allowed (tests), a URL of 0 s is not', () => {
    expect(problems({ GANTRY_ASSET_UPLOAD_MAX_SECONDS: '600' }).join('\n')).toMatch(/GANTRY_ASSET_UPLOAD_MAX_SECONDS: must be at least/);
    expect(problems({ GANTRY_ASSET_GARBAGE_DELAY_SECONDS: '0' })).toEqual([]);
    expect(problems({ GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS: '0' }).join('\n')).toContain('GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS');
  });
});
