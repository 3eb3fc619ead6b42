import type { Command } from 'commander';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AssetSchema } from '#contracts';
import { assetPath, repoPath } from '../client';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { printList, printObject } from '../output';
import { humanBytes, progress } from '../progress';
import { withJson, type Ctx } from './shared';

const AssetPage = z.object({ items: z.array(AssetSchema), nextCursor: z.string().nullable() });

export function registerAssets(program: Command, ctx: Ctx): void {
  const assets = program.command('assets').description("a repository's release assets (files)");
  withJson(assets.command('ls <owner/repo> [prefix]').description('list assets, optionally under a path prefix')).action(
    async (fullName: string, prefix: string | undefined, options: { json?: boolean }) => {
      const context = ctx();
      const items: z.infer<typeof AssetSchema>[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '1000', ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) });
        const page: z.infer<typeof AssetPage> = await context.client().json('GET', `${repoPath(fullName)}/assets?${query}`, AssetPage);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      printList(context.io, options.json, items.map((item) => ({ ...item, uploadedBy: item.uploadedBy.name })), ['path', 'size', 'sha256', 'contentType', 'uploadedAt']);
    },
  );

  withJson(
    assets
      .command('put <owner/repo> <path> [file]')
      .description('upload a file (standard input when no file or "-"); prints size and sha256')
      .option('--content-type <type>', 'stored with the asset', 'application/octet-stream')
      .option('-q, --quiet', 'no progress bar'),
  ).action(async (fullName: string, path: string, file: string | undefined, options: { contentType: string; quiet?: boolean; json?: boolean }) => {
    const context = ctx();
    const asset = await upload(context, fullName, path, file, options);
    if (options.json) return printObject(context.io, true, asset);
    context.io.stdout.write(`${asset.path}\t${asset.size}\tsha256:${asset.sha256}\n`);
  });

  assets
    .command('get <owner/repo> <path> [file]')
    .description('download an asset (to standard output when no file or "-"), verifying its sha256')
    .option('-q, --quiet', 'no progress bar and no summary')
    .action(async (fullName: string, path: string, file: string | undefined, options: { quiet?: boolean }) => {
      await download(ctx(), fullName, path, file, options.quiet === true);
    });

  assets.command('rm <owner/repo> <path>').description('delete an asset').action(async (fullName: string, path: string) => {
    const context = ctx();
    await context.client().json('DELETE', `${repoPath(fullName)}/assets/${assetPath(path)}`);
    context.note(`Deleted ${path}.`);
  });
}

/** Uploads with Content-Length (the gateway takes no chunked uploads): standard input is spooled to a temporary file first. */
async function upload(context: CliContext, fullName: string, path: string, file: string | undefined, options: { contentType: string; quiet?: boolean }) {
  const fromStdin = file === undefined || file === '-';
  if (fromStdin && context.io.stdin.isTTY) throw new CliError('no file given and standard input is a terminal: name a file or pipe the data in', EXIT.usage);
  let spool: string | null = null;
  try {
    let source = file as string;
    if (fromStdin) {
      spool = await mkdtemp(join(tmpdir(), 'gantry-put-'));
      source = join(spool, 'stdin');
      await pipeline(context.io.stdin as Readable, createWriteStream(source, { mode: 0o600 }));
    }
    const size = await stat(source).then((s) => s.size, () => { throw new CliError(`cannot read ${source}`, EXIT.usage); });
    const hash = createHash('sha256');
    // No bar when the data comes through a pipe (a script is reading or writing it), or with --quiet.
    const bar = progress(context.io.stderr, size, `put ${path}`, !options.quiet && !fromStdin);
    const body = createReadStream(source).pipe(hashing(hash)).pipe(bar.meter);
    try {
      const response = await context.client().raw('PUT', `${repoPath(fullName)}/assets/${assetPath(path)}`, {
        stream: body,
        headers: { 'content-type': options.contentType, 'content-length': String(size), 'idempotency-key': randomUUID() },
      });
      const asset = AssetSchema.parse(await response.body.json());
      const local = hash.digest('hex');
      if (asset.sha256 !== local) throw new CliError(`the server stored sha256 ${asset.sha256}, but the file sent has ${local}`);
      return asset;
    } finally {
      bar.stop();
    }
  } finally {
    if (spool) await rm(spool, { recursive: true, force: true });
  }
}

async function download(context: CliContext, fullName: string, path: string, file: string | undefined, quiet: boolean): Promise<void> {
  const response = await context.client().raw('GET', `${repoPath(fullName)}/assets/${assetPath(path)}`);
  const expected = headerOf(response.headers, 'x-checksum-sha256');
  const length = headerOf(response.headers, 'content-length');
  const hash = createHash('sha256');
  const toStdout = file === undefined || file === '-';
  const partial = toStdout ? null : `${file}.gantry-partial`;
  const sink: Writable = partial ? createWriteStream(partial, { mode: 0o644 }) : (context.io.stdout as Writable);
  const bar = progress(context.io.stderr, length ? Number(length) : null, `get ${path}`, !quiet && !toStdout);
  let size = 0;
  const counter = new Transform({ transform: (chunk: Buffer, _e, done) => { size += chunk.length; done(null, chunk); } });
  try {
    await pipeline(response.body, hashing(hash), counter, bar.meter, sink, { end: !toStdout });
  } catch (error) {
    if (partial) await rm(partial, { force: true });
    throw new CliError(`download of ${path} failed: ${(error as Error).message}`);
  } finally {
    bar.stop();
  }
  const actual = hash.digest('hex');
  if (expected && expected !== actual) {
    if (partial) await rm(partial, { force: true });
    throw new CliError(`sha256 mismatch for ${path}: the server said ${expected}, received ${actual}`);
  }
  if (partial) await rename(partial, file as string);
  if (!quiet) context.note(`${path}: ${size} bytes (${humanBytes(size)}), sha256:${actual}${expected ? ' (verified)' : ''}`);
}

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({ transform: (chunk: Buffer, _e, done) => { hash.update(chunk); done(null, chunk); } });
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
