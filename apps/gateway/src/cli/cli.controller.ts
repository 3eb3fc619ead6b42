import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GantryError } from '#contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { installScript } from './install-script';

/** dist/gantry-cli.tgz, written by `npm run build` (scripts/pack-cli.ts) next to the compiled gateway. */
function tarballPath(): string {
  // Compiled (CommonJS) this file is dist/apps/gateway/src/cli/cli.controller.js.
  return typeof __dirname === 'string' ? join(__dirname, '..', '..', '..', '..', 'gantry-cli.tgz') : join(process.cwd(), 'dist', 'gantry-cli.tgz');
}

/** Distribution of the `gantry` CLI: an install script with this gateway's public URL, and the package. */
@Controller('/cli')
export class CliController {
  private checksum: { mtimeMs: number; size: number; sha256: Promise<string> } | null = null;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get('install.sh')
  install(@Res() reply: FastifyReply): void {
    void reply.header('content-type', 'text/x-shellscript; charset=utf-8').header('cache-control', 'no-cache').send(installScript(this.config.GANTRY_PUBLIC_URL));
  }

  /** The packed CLI (npm tarball with its dependencies bundled), streamed; its SHA-256 in X-Checksum-Sha256. */
  @Get('download')
  async download(@Res() reply: FastifyReply): Promise<void> {
    const path = tarballPath();
    const info = await stat(path).catch(() => null);
    if (!info) throw new GantryError('not_found', 'the CLI package was not built on this server (npm run build writes dist/gantry-cli.tgz)');
    if (!this.checksum || this.checksum.mtimeMs !== info.mtimeMs || this.checksum.size !== info.size) {
      this.checksum = { mtimeMs: info.mtimeMs, size: info.size, sha256: sha256Of(path) };
    }
    void reply.headers({
      'content-type': 'application/gzip',
      'content-length': String(info.size),
      'content-disposition': 'attachment; filename="gantry-cli.tgz"',
      'x-checksum-sha256': await this.checksum.sha256,
      'cache-control': 'no-cache',
    });
    return void reply.send(createReadStream(path));
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
