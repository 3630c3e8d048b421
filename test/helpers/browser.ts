// A real browser for the page tests: Debian's chromium driven by playwright-core, headless, with no network beyond
// 127.0.0.1 and no start-up traffic of its own. Tests that need it are skipped, saying so, when chromium is absent
// (CI installs it: .ci/run).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { repoRoot } from './main';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumPresent = existsSync(CHROMIUM_PATH);
/** Appended to a describe's title: why it is skipped, when it is. */
export const chromiumSkipNote = chromiumPresent ? '' : ` (skipped: no chromium at ${CHROMIUM_PATH}; apt-get install chromium)`;

/** Where screenshots go (test output, not committed). */
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');

export interface LaunchOptions {
  /** A WAV file the fake microphone plays (looped), for voice pages. */
  fakeAudioCapture?: string;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context with every request outside 127.0.0.1/localhost refused (no internet, as on an air-gapped machine). */
  newContext(): Promise<BrowserContext>;
  /** Requests the pages tried to send elsewhere than 127.0.0.1 (should stay empty). */
  blocked: string[];
  close(): Promise<void>;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--autoplay-policy=no-user-gesture-required',
  ];
  if (options.fakeAudioCapture) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${options.fakeAudioCapture}`);
  }
  // playwright gives every launch a fresh temporary profile of its own (no --user-data-dir here: it refuses one).
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
  const blocked: string[] = [];
  return {
    browser,
    blocked,
    async newContext() {
      const context = await browser.newContext();
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.protocol === 'data:' || url.protocol === 'blob:';
        if (local) return route.continue();
        blocked.push(url.href);
        return route.abort('internetdisconnected');
      });
      return context;
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** The path of a screenshot (its folder created). */
export function screenshotPath(name: string): string {
  mkdirSync(screenshotDir, { recursive: true });
  return join(screenshotDir, name);
}
