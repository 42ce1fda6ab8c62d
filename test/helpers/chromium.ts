/** Debian's Chromium driven by playwright-core (never a downloaded browser), headless WebGL through SwiftShader. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Launch a fresh headless Chromium profile (in a temp folder, returned for removal).
 * @param viewport Page size.
 * @param extraArgs More command-line switches (the frame-rate benchmark unlocks vsync).
 */
export async function launchChromium(
  viewport: { width: number; height: number },
  extraArgs: string[] = [],
): Promise<{ context: BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'bs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--use-angle=swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
  return { context, profile };
}
