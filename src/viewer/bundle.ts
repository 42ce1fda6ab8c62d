/**
 * The browser app's bundle: src/viewer/app/ (TypeScript + three.js) bundled by esbuild into dist/viewer-app/
 * (ignored by git). `npm run build:viewer` builds it; the server builds it on start when it is missing or older
 * than its sources (esbuild is a dev dependency: an installed package must ship the built bundle).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlindspotError } from '../errors.ts';

/** Folder of the app sources and of the built bundle. */
export const APP_SOURCE_DIR = fileURLToPath(new URL('../../src/viewer/app/', import.meta.url));
export const APP_BUNDLE_DIR = fileURLToPath(new URL('../../dist/viewer-app/', import.meta.url));

const STATIC_FILES = ['index.html', 'app.css'];
/** Server-side modules the app imports too. */
const SHARED_SOURCES = [
  fileURLToPath(new URL('../../src/viewer/egg.ts', import.meta.url)),
  fileURLToPath(new URL('../../src/render/palette.ts', import.meta.url)),
];

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when the bundle exists and is not older than any app source (or the sources are absent). */
export function bundleIsFresh(): boolean {
  const js = join(APP_BUNDLE_DIR, 'app.js');
  if (!existsSync(js)) return false;
  if (!existsSync(APP_SOURCE_DIR)) return true;
  const built = Math.min(
    ...['app.js', ...STATIC_FILES].map((f) =>
      existsSync(join(APP_BUNDLE_DIR, f)) ? statSync(join(APP_BUNDLE_DIR, f)).mtimeMs : 0,
    ),
  );
  const shared = SHARED_SOURCES.filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs);
  return built >= Math.max(newestMtime(APP_SOURCE_DIR), ...shared);
}

/**
 * Build the bundle with esbuild (minified, ES2020, one file) unless it is fresh.
 * @param force rebuild even when fresh
 * @returns the bundle folder
 * @throws BlindspotError E_NOT_FOUND when the bundle is missing and esbuild is not installed
 */
export async function ensureViewerBundle(force = false): Promise<string> {
  let fresh = false;
  try {
    fresh = bundleIsFresh();
  } catch {
    fresh = existsSync(join(APP_BUNDLE_DIR, 'app.js'));
  }
  if (fresh && !force) return APP_BUNDLE_DIR;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new BlindspotError(
      'E_NOT_FOUND',
      'the viewer app is not built and esbuild is not installed (run `npm run build:viewer` in a checkout)',
      APP_BUNDLE_DIR,
    );
  }
  mkdirSync(APP_BUNDLE_DIR, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(APP_SOURCE_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outfile: join(APP_BUNDLE_DIR, 'app.js'),
    write: false,
    logLevel: 'silent',
  });
  // Temporary name + rename: a server in another process never reads a half-written bundle.
  const put = (name: string, bytes: Uint8Array | Buffer) => {
    const tmp = join(APP_BUNDLE_DIR, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, join(APP_BUNDLE_DIR, name));
  };
  for (const f of STATIC_FILES) put(f, readFileSync(join(APP_SOURCE_DIR, f)));
  put('app.js', result.outputFiles[0]!.contents);
  return APP_BUNDLE_DIR;
}
