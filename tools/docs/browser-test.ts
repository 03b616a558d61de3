// npm run docs:test (and a step of npm run verify): opens every page of docs/dist in headless Chromium
// and fails on
//   - a console error, a failed or external request, a link or #anchor that leads nowhere, a code
//     block left unhighlighted, an image that does not load;
//   - any violation of axe-core's WCAG 2.0/2.1 A and AA rules, on every page, at desktop and phone
//     width, in the light and the dark theme (tools/docs/a11y.ts);
//   - a break in the keyboard path: skip link, visible focus at every Tab stop, the search's keys,
//     the sidebar, the table of contents, the phone menu, code blocks that scroll (tools/docs/keyboard.ts).
// It also clicks through the sidebar and the pager, searches in English and in Chinese, and saves
// screenshots to docs/dist/screenshots/.
//
// Chromium: tools/docs/chromium.ts finds one (CHROMIUM_PATH, a system Chromium, or the one inside the
// npm package @sparticuz/chromium). Where there is none, the course repository fails; the student
// release, which does not ship the package, says how to get one and passes.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';

import { REPO_ROOT, hasSolutions } from '../../lib/phases.js';
import { auditPage, AxeTally, THEMES, VIEWPORTS } from './a11y.js';
import { findChromium, howToGetChromium, packagedVersionProblem } from './chromium.js';
import { checkPhone, checkSearchKeys, checkTabOrder } from './keyboard.js';
import { startServer, type RunningServer } from './server.js';
import { buildSite, DIST_DIR, type Manifest } from './site.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const NAV_TIMEOUT_MS = 15_000;

interface PageReport {
  readonly url: string; // site path
  readonly ids: readonly string[];
  readonly links: readonly string[]; // absolute hrefs of <a> elements
}

interface DomFindings {
  readonly ids: string[];
  readonly links: string[];
  readonly unhighlighted: string[];
  readonly brokenImages: string[];
  readonly hasH1: boolean;
  readonly lang: string;
}

class Problems {
  readonly list: string[] = [];
  add(where: string, message: string): void {
    this.list.push(`${where}: ${message}`);
  }
}

// Watches one browser page for console errors, page errors, failed requests and external requests.
function watch(page: Page, origin: string, problems: Problems, where: () => string): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.add(where(), `console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.add(where(), `uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) => {
    // ERR_ABORTED: the page navigated away before it finished (a favicon, a lazy image); a missing
    // file shows up as an HTTP error status instead.
    const error = req.failure()?.errorText ?? '?';
    if (req.url().startsWith(origin) && error !== 'net::ERR_ABORTED') problems.add(where(), `request failed: ${req.url()} (${error})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.add(where(), `HTTP ${res.status()} for ${res.url()}`);
  });
}

async function inspect(page: Page): Promise<DomFindings> {
  return page.evaluate(() => {
    const ids = Array.from(document.querySelectorAll('[id]')).map((e) => e.id);
    const links = Array.from(document.querySelectorAll('a[href]')).map((a) => (a as HTMLAnchorElement).href);
    const unhighlighted = Array.from(document.querySelectorAll('pre code'))
      .filter((code) => {
        if (!code.classList.contains('hljs')) return true;
        const lang = Array.from(code.classList).find((c) => c.startsWith('language-'));
        if (lang === undefined) return true;
        // Real languages must come out with tokens; plain text (diagrams, output) may not.
        const plain = lang === 'language-plaintext' || lang === 'language-text';
        return !plain && code.textContent !== null && code.textContent.trim().length > 20 && code.querySelector('[class^="hljs-"]') === null;
      })
      .map((code) => (code.textContent ?? '').trim().split('\n')[0]?.slice(0, 60) ?? '');
    const brokenImages = Array.from(document.querySelectorAll('img'))
      .filter((img) => !img.complete || img.naturalWidth === 0)
      .map((img) => img.getAttribute('src') ?? '?');
    return { ids, links, unhighlighted, brokenImages, hasH1: document.querySelector('main h1') !== null, lang: document.documentElement.lang };
  });
}

const SAMPLE_THEMES = process.argv.includes('--sample-themes');

// Pages are visited by this many browser pages at once (each page is CPU-bound in the renderer).
const WORKERS = Math.max(1, Math.min(2, cpus().length));

async function visitAll(browser: Browser, server: RunningServer, manifest: Manifest, problems: Problems, tally: AxeTally): Promise<Map<string, PageReport>> {
  const context = await browser.newContext({ viewport: { width: VIEWPORTS[0]?.width ?? 1366, height: VIEWPORTS[0]?.height ?? 900 } });
  const origin = server.url.replace(/\/$/, '');
  const currentOf = new Map<Page, string>();
  // Anything not served by our server is a failure, and is never actually sent.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    const frame = route.request().frame();
    problems.add(currentOf.get(frame.page()) ?? '?', `external request blocked: ${url}`);
    return route.abort();
  });
  const reports = new Map<string, PageReport>();
  const queue = [...manifest.pages];
  const worker = async (): Promise<void> => {
    const page = await context.newPage();
    page.setDefaultTimeout(NAV_TIMEOUT_MS);
    watch(page, origin, problems, () => currentOf.get(page) ?? '?');
    for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
      currentOf.set(page, entry.url);
      const response = await page.goto(server.url + entry.url, { waitUntil: 'load' });
      if (response === null || !response.ok()) {
        problems.add(entry.url, `page did not load (HTTP ${response?.status() ?? '?'})`);
        continue;
      }
      // Lazy images below the fold: scroll them into view so they load, then check.
      await page.evaluate(async () => {
        for (const img of Array.from(document.querySelectorAll('img'))) {
          img.loading = 'eager';
          if (!img.complete) {
            await new Promise<void>((resolve) => {
              img.addEventListener('load', () => resolve(), { once: true });
              img.addEventListener('error', () => resolve(), { once: true });
              setTimeout(resolve, 3000);
            });
          }
        }
      });
      const found = await inspect(page);
      if (!found.hasH1) problems.add(entry.url, 'no <h1> in the page');
      for (const code of found.unhighlighted) problems.add(entry.url, `code block not highlighted: "${code}"`);
      for (const src of found.brokenImages) problems.add(entry.url, `image does not load: ${src}`);
      if (found.lang !== entry.lang) problems.add(entry.url, `<html lang="${found.lang}">, expected "${entry.lang}"`);
      reports.set(entry.url, { url: entry.url, ids: found.ids, links: found.links });
      // With --sample-themes (verify), every page is checked at every width in the first theme and
      // at the first width in every theme; the second theme at the other widths on every fourth page.
      const index = manifest.pages.indexOf(entry);
      for (const run of await auditPage(page, { everyThemeAtEveryWidth: !SAMPLE_THEMES || index % 4 === 0 })) {
        tally.add(run.violations);
        for (const v of run.violations) {
          for (const node of v.nodes) {
            problems.add(`${entry.url} (${run.viewport}, ${run.theme})`, `axe ${v.rule} (${v.impact}): ${v.help}: ${node.target}: ${node.summary}`);
          }
        }
      }
    }
    await page.close();
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  await context.close();
  return reports;
}

// Every internal link must reach a file the server has, and its #anchor an element on that page.
async function checkLinks(server: RunningServer, reports: Map<string, PageReport>, problems: Problems): Promise<number> {
  const fileOk = new Map<string, boolean>();
  let checked = 0;
  for (const report of reports.values()) {
    for (const href of report.links) {
      if (!href.startsWith(server.url)) {
        if (!/^(https?|mailto):/.test(href)) problems.add(report.url, `link with an unexpected scheme: ${href}`);
        continue;
      }
      checked++;
      const u = new URL(href);
      let path = decodeURIComponent(u.pathname.slice(1));
      if (path === '' || path.endsWith('/')) path += 'index.html';
      let ok = fileOk.get(path);
      if (ok === undefined) {
        const res = await fetch(server.url + path, { method: 'HEAD' });
        ok = res.ok;
        fileOk.set(path, ok);
      }
      if (!ok) {
        problems.add(report.url, `link to a missing page: ${path}`);
        continue;
      }
      if (u.hash.length > 1) {
        const target = reports.get(path);
        const id = decodeURIComponent(u.hash.slice(1));
        if (target === undefined) problems.add(report.url, `anchor into a page that was not visited: ${path}${u.hash}`);
        else if (!target.ids.includes(id)) problems.add(report.url, `link to a missing anchor: ${path}#${id}`);
      }
    }
  }
  return checked;
}

// Clicks every sidebar entry from the home page, then the "Next" links from start to end.
async function clickThrough(browser: Browser, server: RunningServer, manifest: Manifest, problems: Problems): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(NAV_TIMEOUT_MS);
  const where = 'sidebar';
  watch(page, server.url, problems, () => where);
  await page.goto(`${server.url}index.html`);
  const count = await page.locator('.sidebar a').count();
  if (count !== manifest.sidebar.length) problems.add(where, `sidebar has ${count} links, expected ${manifest.sidebar.length}`);
  for (let i = 0; i < count; i++) {
    const link = page.locator('.sidebar a').nth(i);
    const expected = manifest.sidebar[i] ?? '';
    await Promise.all([page.waitForURL(`**/${expected}`), link.click()]);
    const active = await page.locator('.sidebar a.active').getAttribute('href');
    if (active === null || !expected.endsWith(active)) problems.add(where, `after clicking to ${expected}, the highlighted entry is ${active ?? 'none'}`);
    if ((await page.locator('main h1').count()) === 0) problems.add(where, `${expected} has no heading`);
  }
  // Previous/next: from the first page, "Next" must walk the sidebar order to the end.
  await page.goto(`${server.url}${manifest.sidebar[0] ?? 'index.html'}`);
  for (let i = 1; i < manifest.sidebar.length; i++) {
    const next = page.locator('a.pager-next');
    if ((await next.count()) === 0) {
      problems.add('pager', `no Next link on ${manifest.sidebar[i - 1] ?? '?'}`);
      break;
    }
    await Promise.all([page.waitForURL(`**/${manifest.sidebar[i] ?? ''}`), next.click()]);
  }
  if ((await page.locator('a.pager-next').count()) !== 0) problems.add('pager', 'the last page has a Next link');
  await context.close();
}

// Types a query, expects results, clicks the first, and lands on a page that contains `expect`.
async function search(browser: Browser, server: RunningServer, problems: Problems, shots: string, query: string, expect: string, shot?: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(NAV_TIMEOUT_MS);
  const where = `search '${query}'`;
  watch(page, server.url, problems, () => where);
  await page.goto(`${server.url}index.html`);
  await page.keyboard.press('/');
  await page.keyboard.type(query, { delay: 10 });
  const results = page.locator('#search-results [role="option"]');
  try {
    await results.first().waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    problems.add(where, 'shows no results');
    await context.close();
    return;
  }
  if (shot !== undefined) await page.screenshot({ path: join(shots, shot) });
  const href = (await results.first().getAttribute('href')) ?? '';
  const target = new URL(href, page.url());
  await Promise.all([
    page.waitForURL((u) => u.pathname === target.pathname && decodeURIComponent(u.hash) === decodeURIComponent(target.hash)),
    results.first().click(),
  ]);
  const text = (await page.locator('main').innerText()).toLowerCase();
  if (!text.includes(expect.toLowerCase())) problems.add(where, `the first result (${href}) does not contain '${expect}'`);
  await context.close();
}

async function screenshots(browser: Browser, server: RunningServer, manifest: Manifest, shots: string): Promise<string[]> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const phase = manifest.sidebar.find((u) => /^phase\d+-/.test(u)) ?? manifest.sidebar[1] ?? 'index.html';
  const out: string[] = [];
  for (const [name, url] of [['home', 'index.html'], ['phase', phase]] as const) {
    await page.goto(server.url + url, { waitUntil: 'load' });
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file });
    out.push(file);
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, 'phase-dark.png') });
  out.push(join(shots, 'phase-dark.png'));
  await page.emulateMedia({ colorScheme: 'light' });
  // The phase page again, scrolled to its first diagram, if it has one.
  const img = page.locator('main img').first();
  if ((await img.count()) > 0) {
    await img.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -120));
    const file = join(shots, 'phase-diagram.png');
    await page.screenshot({ path: file });
    out.push(file);
  }
  await context.close();
  return out;
}

export async function runBrowserTest(): Promise<number> {
  const t0 = Date.now();
  const found = await findChromium();
  if (!found.found) {
    const help = howToGetChromium(found);
    if (!hasSolutions()) {
      // The student release ships no browser: its verify checks what it can and says how to get one.
      console.log(`docs browser test: SKIPPED: ${help}\n  The site itself was built and checked; \`npm run docs\` serves it.`);
      return 0;
    }
    console.error(`docs browser test: ${help}`);
    return 1;
  }
  if (!existsSync(join(DIST_DIR, 'manifest.json'))) {
    const built = buildSite(DIST_DIR);
    if (built.problems.length > 0) console.error(`docs: ${built.problems.length} problem(s) in the sources (run npm run docs:build)`);
  }
  const manifest = JSON.parse(readFileSync(join(DIST_DIR, 'manifest.json'), 'utf8')) as Manifest;
  const shots = join(DIST_DIR, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const problems = new Problems();
  const pinned = packagedVersionProblem();
  if (pinned !== undefined) problems.add('package.json', pinned);
  const server = await startServer(DIST_DIR, 0);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: found.executablePath, args: CHROMIUM_ARGS, env: { ...process.env, ...found.env }, timeout: 60_000 });
    const tally = new AxeTally();
    const reports = await visitAll(browser, server, manifest, problems, tally);
    const tVisit = Date.now();
    const links = await checkLinks(server, reports, problems);
    await clickThrough(browser, server, manifest, problems);
    await search(browser, server, problems, shots, 'robust mutex', 'robust', 'search.png');
    // Readers of Chinese: the glossary gives each term in Chinese, and the search splits Chinese text.
    await search(browser, server, problems, shots, '共享内存', '共享内存', 'search-zh.png');
    // The keyboard path, on the first phase's lesson (sidebar, table of contents, wide diagrams).
    const phase = manifest.sidebar.find((u) => /^phase\d+-/.test(u)) ?? 'index.html';
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(NAV_TIMEOUT_MS);
    watch(page, server.url, problems, () => 'keyboard');
    const report = (where: string, message: string): void => problems.add(where, message);
    const stops = await checkTabOrder(page, `${server.url}${phase}`, report);
    await checkSearchKeys(page, `${server.url}index.html`, report, 'robust mutex', 'robust');
    await context.close();
    await checkPhone(browser, server.url, phase, report);
    const files = await screenshots(browser, server, manifest, shots);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const runs = SAMPLE_THEMES
      ? `${VIEWPORTS.length} widths x ${THEMES.length} themes, the second theme at the other widths on every fourth page (--sample-themes)`
      : `${VIEWPORTS.length} widths x ${THEMES.length} themes`;
    if (problems.list.length > 0) {
      console.error(`docs browser test: ${problems.list.length} problem(s):`);
      for (const p of problems.list) console.error(`  ${p}`);
      if (tally.total > 0) console.error(`  axe violations by rule (nodes, over ${reports.size} pages x ${runs}): ${tally.table()}`);
      return 1;
    }
    console.log(
      `docs browser test (${found.description}): ${reports.size} pages, ${links} internal links, sidebar, pager and search ok in ${secs}s\n` +
        `  axe-core WCAG 2.1 A/AA: no violation on ${reports.size} pages x ${runs} (${tally.runs} runs, ${((tVisit - t0) / 1000).toFixed(1)}s with the page checks)\n` +
        `  keyboard: skip link, ${stops} Tab stops with visible focus on ${phase}, search keys, phone menu and scrolling code ok\n` +
        `  screenshots: ${[...files, join(shots, 'search.png'), join(shots, 'search-zh.png')].map((f) => relative(REPO_ROOT, f)).join(', ')}`,
    );
    return 0;
  } finally {
    await browser?.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBrowserTest().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`docs browser test crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 1;
    },
  );
}
