import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Part of `npm run build`: packs the `gantry` CLI into dist/gantry-cli.tgz, the file the gateway
 * serves at GET /cli/download. The tarball is self-contained: the compiled CLI, the parts of the
 * repository it imports (contracts, the ci-runner's executor) and its runtime dependencies as
 * bundled dependencies, so `npm install -g gantry-cli.tgz` needs no registry.
 *
 * Why not a bundler: none is installed (esbuild would need a platform-specific optional package,
 * see TOOLCHAIN), and copying compiled files plus tar takes about a second.
 */
const ROOT = process.cwd();
const DIST = join(ROOT, 'dist');
const PACKAGE_DIR = join(DIST, 'cli-package');
export const CLI_TARBALL = join(DIST, 'gantry-cli.tgz');

/** The CLI's runtime dependencies (and only those: the services' are not needed). */
const RUNTIME_DEPENDENCIES = ['commander', 'cli-progress', '@inquirer/password', 'undici', 'zod', 'yaml', 'canonicalize'];
/** Compiled directories and files the CLI loads. */
const COMPILED = ['apps/cli/src', 'apps/ci-runner/src/executor', 'apps/ci-runner/src/worker/run-environment.js', 'libs/contracts/src'];

function main(): void {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: Record<string, string>; dependencies: Record<string, string> };
  rmSync(PACKAGE_DIR, { recursive: true, force: true });
  mkdirSync(PACKAGE_DIR, { recursive: true });
  for (const path of COMPILED) {
    const source = join(DIST, path);
    if (!existsSync(source)) throw new Error(`pack-cli: ${source} is missing (run tsc first)`);
    cpSync(source, join(PACKAGE_DIR, 'dist', path), { recursive: true, filter: (file) => !file.endsWith('.map') && !file.endsWith('/testing.js') });
  }
  const copied = new Set<string>();
  for (const name of RUNTIME_DEPENDENCIES) copyDependency(name, ROOT, copied);
  const manifest = {
    name: 'gantry-cli',
    version: root.version,
    description: 'The gantry command line: Gantry credentials, repositories, assets, CI runs and remote runners',
    license: 'UNLICENSED',
    engines: root.engines,
    bin: { gantry: 'dist/apps/cli/src/main.js' },
    imports: { '#contracts': './dist/libs/contracts/src/index.js' },
    files: ['dist'],
    dependencies: Object.fromEntries(RUNTIME_DEPENDENCIES.map((name) => [name, root.dependencies[name] ?? versionOf(name)])),
    bundleDependencies: RUNTIME_DEPENDENCIES,
  };
  writeFileSync(join(PACKAGE_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // What `npm pack` would write (everything under `package/`), with GNU tar: ten times faster.
  const partial = `${CLI_TARBALL}.partial`;
  execFileSync('tar', ['-czf', partial, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', DIST, '--transform', 's,^cli-package,package,', 'cli-package'], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(partial, CLI_TARBALL);
}

/** Copies a dependency (resolved as Node would from `from`) and, recursively, what it depends on. */
function copyDependency(name: string, from: string, copied: Set<string>): void {
  const source = resolvePackage(name, from);
  if (!source) throw new Error(`pack-cli: cannot find the dependency ${name} (from ${relative(ROOT, from) || '.'})`);
  if (copied.has(source)) return;
  copied.add(source);
  const target = join(PACKAGE_DIR, relative(ROOT, source));
  if (!existsSync(target)) cpSync(source, target, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copyDependency(dependency, source, copied);
  for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) if (resolvePackage(dependency, source)) copyDependency(dependency, source, copied);
}

/** `<dir>/node_modules/<name>`, walking up from `from` to the repository root. */
function resolvePackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dir === dirname(dir)) return null;
  }
}

function versionOf(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

main();
