import { defineConfig } from '@playwright/test';

// Browser tests run in Debian's Chromium: Playwright cannot download its own
// browsers here. `cargo leptos end-to-end` builds and starts the server first;
// scripts/test.sh points it (and BASE_URL) at a free port and a scratch database.
export default defineConfig({
  testDir: './tests',
  globalSetup: './wait-for-server.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Two cores: one worker, and each test drives several browser contexts.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000',
    viewport: { width: 1280, height: 900 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
