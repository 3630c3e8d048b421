// The esbuild settings of the production bundles (scripts/build.ts → dist/, the image's code), shared with the
// benchmark (bench/bundle.ts), which runs its servers from bundles made the same way: what it measures is the code a
// deployment runs, not tsx's on-the-fly transform (which keeps function names by wrapping every named closure at its
// creation, and holds its source maps in the server's memory).
import type { BuildOptions } from 'esbuild';

export const BUNDLE_OPTIONS = {
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
} as const satisfies BuildOptions;
