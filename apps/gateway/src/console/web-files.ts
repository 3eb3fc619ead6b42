import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.woff2': 'font/woff2', '.ico': 'image/x-icon', '.json': 'application/json',
};

export interface WebFile { body: Buffer; type: string }

/** dist/web, written by `npm run build` (vite build of apps/web) next to the compiled gateway. */
export function webRoot(): string {
  // Compiled (CommonJS) this file is dist/apps/gateway/src/console/web-files.js.
  return typeof __dirname === 'string' ? join(__dirname, '..', '..', '..', '..', 'web') : join(process.cwd(), 'dist', 'web');
}

/**
 * The built console, read once at start: index.html and the hashed files under static/. Only these
 * names are ever served (a lookup in a map: no path from the URL touches the file system).
 */
export class WebFiles {
  readonly index: Buffer | null;
  private readonly files = new Map<string, WebFile>();

  constructor(root = webRoot()) {
    this.index = existsSync(join(root, 'index.html')) ? readFileSync(join(root, 'index.html')) : null;
    const dir = join(root, 'static');
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type) this.files.set(name, { body: readFileSync(join(dir, name)), type });
    }
  }

  static(name: string): WebFile | undefined {
    return this.files.get(name);
  }
}
