import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The web console: built to dist/web, served by the gateway (index.html + hashed files in static/). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'static',
    // No inline scripts or data: URLs for scripts (the CSP allows 'self' only).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
