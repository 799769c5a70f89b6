import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { parse } from 'yaml';
import { RULES_FILE } from '../../alerting/rules-yaml';
import { REQUIRED_SECTIONS, ROOT, siteFileForUrl, SITE_DIR } from '../runbooks';

/**
 * Opens every runbook URL the alert rules carry in a real (headless) Chromium at a phone's width and checks that the
 * page renders: its title, every section, Korean text as UTF-8, nothing wider than the screen but code blocks.
 * Needs Debian's `chromium` (apt-get install chromium); CHROMIUM_PATH overrides where it is.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const runbookUrls = () =>
  (parse(readFileSync(path.join(ROOT, RULES_FILE), 'utf8')).groups as { rules: { alert?: string; annotations: { runbook_url: string } }[] }[])
    .flatMap((group) => group.rules)
    // Recording rules (the SLO ratios) have no alert and no runbook.
    .flatMap((rule) => (rule.alert === undefined ? [] : [[rule.alert, rule.annotations.runbook_url] as const]));

/** Serves runbooks/site/ as the runbook server (monitoring/runbooks/nginx.conf) does: UTF-8 HTML, 404 otherwise. */
function startSiteServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const file = path.join(SITE_DIR, path.normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^\/+$/, '/index.html'));
    if (!file.startsWith(SITE_DIR) || !existsSync(file) || !file.endsWith('.html')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What the test reads off a rendered page; runs in the browser (a string, so the project needs no DOM types). */
const READ_PAGE = `(() => ({
  charset: document.characterSet,
  title: document.title,
  h1: document.querySelector('h1')?.textContent ?? '',
  sections: [...document.querySelectorAll('h2')].map((h) => h.textContent.trim()),
  viewport: document.querySelector('meta[name=viewport]')?.getAttribute('content') ?? '',
  // Wider than the screen only inside code blocks and tables, which scroll on their own.
  overflowing: [...document.querySelectorAll('main > *:not(pre):not(table):not(details)')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map((el) => el.tagName),
  pageWidth: document.documentElement.scrollWidth,
  screenWidth: window.innerWidth,
  fontSize: parseFloat(getComputedStyle(document.body).fontSize),
}))()`;

interface PageReading {
  charset: string;
  title: string;
  h1: string;
  sections: string[];
  viewport: string;
  overflowing: string[];
  pageWidth: number;
  screenWidth: number;
  fontSize: number;
}

let server: Server;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's \`chromium\` package (apt-get install chromium) or set CHROMIUM_PATH`);
  server = await startSiteServer();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test.each(runbookUrls())('%s: %s renders on a phone with its title and every section', async (alert, url) => {
  expect(existsSync(siteFileForUrl(url))).toBe(true);
  const page = await browser.newPage(PHONE);
  try {
    const response = await page.goto(`${base}${new URL(url).pathname}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const seen = (await page.evaluate(READ_PAGE)) as PageReading;
    expect(seen.charset).toBe('UTF-8');
    expect(seen.title.startsWith(alert)).toBe(true);
    expect(seen.h1.startsWith(alert)).toBe(true);
    expect(seen.sections).toEqual([...REQUIRED_SECTIONS]);
    expect(seen.viewport).toContain('width=device-width');
    expect(seen.overflowing).toEqual([]);
    expect(seen.pageWidth).toBeLessThanOrEqual(seen.screenWidth);
    expect(seen.fontSize).toBeGreaterThanOrEqual(16);
  } finally {
    await page.close();
  }
});

test('the index opens at the server root and links every runbook page that exists', async () => {
  const page = await browser.newPage();
  try {
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const links: string[] = await page.evaluate('[...document.querySelectorAll(\'a[href$=".html"]\')].map((a) => a.getAttribute("href"))');
    for (const [alert] of runbookUrls()) expect(links).toContain(`${alert}.html`);
  } finally {
    await page.close();
  }
});
