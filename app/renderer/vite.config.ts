import { defineConfig } from 'vite';

// Plain string paths: the renderer's lint room forbids Node modules, even in its build config.
const rendererRoot = import.meta.dirname;

/** Builds the UI into dist/renderer; relative paths so both app:// (Electron) and the devhost can serve it. */
export default defineConfig({
  root: rendererRoot,
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: `${rendererRoot}/../../dist/renderer`,
    emptyOutDir: true,
    // The preload polyfill would be a script the strict CSP has to trust; Chromium has native modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/')) return;
        warn(warning);
      },
    },
  },
});
