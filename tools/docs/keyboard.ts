// The keyboard path through the course site, driven with real key presses in the browser test:
// the skip link, a visible focus on everything Tab reaches, the search (`/`, arrows, Enter, Escape),
// the sidebar and the table of contents, the phone menu, and blocks that scroll sideways.
// Each check reports what went wrong in words a reader of the site would use.
import type { Browser, Page } from 'playwright-core';

import { VIEWPORTS } from './a11y.js';

export type Report = (where: string, message: string) => void;

interface FocusInfo {
  readonly tag: string;
  readonly text: string; // a short description of the element, for messages
  readonly id: string;
  readonly cls: string;
  readonly href: string | null;
  readonly visibleFocus: boolean; // an outline or a box-shadow that the unfocused element does not have
  readonly inViewport: boolean;
  readonly underTopbar: boolean; // hidden behind the sticky top bar
}

// What has focus now, and whether a sighted keyboard user can see where it is.
async function focused(page: Page): Promise<FocusInfo | null> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!(el instanceof HTMLElement) || el === document.body) return null;
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    const shadow = cs.boxShadow !== 'none';
    const r = el.getBoundingClientRect();
    const topbar = document.querySelector('.topbar')?.getBoundingClientRect();
    const inTopbar = el.closest('.topbar') !== null || el.classList.contains('skip-link');
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 50),
      id: el.id,
      cls: el.className,
      href: el.getAttribute('href'),
      visibleFocus: outline || shadow,
      inViewport: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth && r.width > 0 && r.height > 0,
      underTopbar: !inTopbar && topbar !== undefined && r.bottom <= topbar.bottom + 1,
    };
  });
}

const describe = (f: FocusInfo): string => `<${f.tag}${f.id === '' ? '' : ` id=${f.id}`}> "${f.text}"`;

// Tabs through a page from the top and checks every stop: visible focus, on screen, not hidden
// under the top bar. Returns the focus order (as descriptions) for the other checks.
async function tabThrough(page: Page, where: string, report: Report, limit: number): Promise<FocusInfo[]> {
  const stops: FocusInfo[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f === null) break; // back to the document: the end of the page
    if (stops.length > 0 && stops[0]?.tag === f.tag && stops[0]?.id === f.id && stops[0]?.text === f.text && stops[0]?.href === f.href) break;
    stops.push(f);
    if (!f.visibleFocus) report(where, `Tab stop ${stops.length} ${describe(f)} shows no focus outline`);
    if (!f.inViewport) report(where, `Tab stop ${stops.length} ${describe(f)} has focus but is off screen`);
    if (f.underTopbar) report(where, `Tab stop ${stops.length} ${describe(f)} has focus but is hidden under the top bar`);
  }
  return stops;
}

async function expectFocus(page: Page, where: string, report: Report, what: string, test: (f: FocusInfo) => boolean): Promise<boolean> {
  const f = await focused(page);
  if (f === null || !test(f)) {
    report(where, `${what}, but focus is on ${f === null ? 'nothing' : describe(f)}`);
    return false;
  }
  return true;
}

// Skip link, then the whole Tab order of a page: every sidebar and TOC entry is reached, each with a
// visible focus. Then Enter on a TOC entry moves to its section.
export async function checkTabOrder(page: Page, url: string, report: Report): Promise<number> {
  const where = `keyboard ${url}`;
  await page.goto(url);
  await page.keyboard.press('Tab');
  if (!(await expectFocus(page, where, report, 'the first Tab should reach the skip link', (f) => f.cls.includes('skip-link')))) return 0;
  const skipVisible = await page.evaluate(() => {
    const r = document.querySelector('.skip-link')?.getBoundingClientRect();
    return r !== undefined && r.top >= 0 && r.bottom <= window.innerHeight && r.width > 1;
  });
  if (!skipVisible) report(where, 'the focused skip link is not visible');
  await page.keyboard.press('Enter');
  await expectFocus(page, where, report, 'Enter on the skip link should move focus to the page content', (f) => f.id === 'content');
  await page.keyboard.press('Tab');
  await expectFocus(page, where, report, 'after the skip link, Tab should go to the first link of the content', (f) => f.tag !== 'body');
  const inMain = await page.evaluate(() => document.activeElement?.closest('main') !== null);
  if (!inMain) report(where, 'after the skip link, Tab left the page content');

  // The whole order from the top.
  await page.goto(url);
  const expected = await page.evaluate(() => ({
    sidebar: Array.from(document.querySelectorAll<HTMLAnchorElement>('.sidebar a')).map((a) => a.getAttribute('href')),
    toc: Array.from(document.querySelectorAll<HTMLAnchorElement>('.toc a')).map((a) => a.getAttribute('href')),
    focusable: document.querySelectorAll('a[href], button, input, [tabindex="0"]').length,
  }));
  const stops = await tabThrough(page, where, report, expected.focusable + 10);
  const hrefs = stops.map((s) => s.href);
  for (const [name, list] of [['sidebar', expected.sidebar], ['table of contents', expected.toc]] as const) {
    let at = -1;
    for (const href of list) {
      const next = hrefs.indexOf(href, at + 1);
      if (next === -1) {
        report(where, `Tab never reaches the ${name} entry ${href ?? '?'} (in order)`);
        break;
      }
      at = next;
    }
  }

  // Enter on a TOC entry: the section's heading is scrolled into view below the top bar.
  const tocLinks = page.locator('.toc a');
  if ((await tocLinks.count()) > 1) {
    const link = tocLinks.nth(1);
    const href = (await link.getAttribute('href')) ?? '';
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((h) => decodeURIComponent(location.hash) === decodeURIComponent(h), href, { timeout: 5000 }).catch(() => undefined);
    const landed = await page.evaluate((h) => {
      const target = document.getElementById(decodeURIComponent(h.slice(1)));
      const topbar = document.querySelector('.topbar')?.getBoundingClientRect().bottom ?? 0;
      if (target === null) return 'no such heading';
      const r = target.getBoundingClientRect();
      return r.top >= topbar - 1 && r.top < window.innerHeight ? '' : `its heading is at y=${Math.round(r.top)} (top bar ends at ${Math.round(topbar)})`;
    }, href);
    if (landed !== '') report(where, `Enter on the table-of-contents entry ${href}: ${landed}`);
  }
  return stops.length;
}

// `/` focuses the search; typing shows results; arrows move the selection (announced through
// aria-activedescendant); Enter opens the selected result; Escape closes, then leaves.
export async function checkSearchKeys(page: Page, url: string, report: Report, query: string, expectIn: string): Promise<void> {
  const where = `search keys on ${url}`;
  await page.goto(url);
  await page.keyboard.press('/');
  if (!(await expectFocus(page, where, report, "'/' should focus the search box", (f) => f.id === 'search-input'))) return;
  await page.keyboard.type(query, { delay: 5 });
  const options = page.locator('#search-results [role="option"]');
  try {
    await options.first().waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    report(where, `typing '${query}' shows no results`);
    return;
  }
  const count = await options.count();
  const state = async (): Promise<{ active: string | null; selected: string[] }> =>
    page.evaluate(() => ({
      active: document.getElementById('search-input')?.getAttribute('aria-activedescendant') ?? null,
      selected: Array.from(document.querySelectorAll('#search-results [aria-selected="true"]')).map((e) => e.id),
    }));
  await page.keyboard.press('ArrowDown');
  const first = await state();
  if (first.active === null || first.selected.length !== 1 || first.selected[0] !== first.active) {
    report(where, `ArrowDown should select the first result (aria-activedescendant ${first.active ?? 'unset'}, selected ${first.selected.join(',') || 'none'})`);
  }
  if (count > 1) {
    await page.keyboard.press('ArrowDown');
    const second = await state();
    if (second.active === first.active) report(where, 'a second ArrowDown does not move to the next result');
    await page.keyboard.press('ArrowUp');
    const back = await state();
    if (back.active !== first.active) report(where, 'ArrowUp does not move back to the first result');
  }
  await expectFocus(page, where, report, 'the search box should keep focus while arrows move through the results', (f) => f.id === 'search-input');
  // Escape closes the results, and a second Escape leaves the box.
  await page.keyboard.press('Escape');
  if (await page.locator('#search-results').isVisible()) report(where, 'Escape does not close the results');
  await expectFocus(page, where, report, 'after one Escape the search box should keep focus', (f) => f.id === 'search-input');
  await page.keyboard.press('Escape');
  const left = await page.evaluate(() => document.activeElement?.id !== 'search-input');
  if (!left) report(where, 'a second Escape does not leave the search box');
  // Back in, then Enter on the selected result opens it.
  await page.keyboard.press('/');
  await page.keyboard.press('ArrowDown');
  const target = await page.locator('#search-results [aria-selected="true"]').first().getAttribute('href');
  if (target === null) {
    report(where, 'after focusing the box again, ArrowDown selects no result');
    return;
  }
  const expectedPath = new URL(target, page.url()).pathname;
  await Promise.all([page.waitForURL((u) => u.pathname === expectedPath, { timeout: 10_000 }), page.keyboard.press('Enter')]).catch(() =>
    report(where, `Enter on the selected result does not open ${target}`),
  );
  const text = await page.locator('main').innerText();
  if (!text.includes(expectIn)) report(where, `the result opened (${expectedPath}) does not contain '${expectIn}'`);
}

// Phone width: the menu button opens the sidebar and moves focus into it; Escape closes it and
// returns focus to the button. A code block that scrolls sideways takes focus and scrolls with the
// arrow keys.
export async function checkPhone(browser: Browser, base: string, pageWithWideCode: string, report: Report): Promise<void> {
  const phone = VIEWPORTS.find((v) => v.name === 'phone') ?? { width: 390, height: 844 };
  const context = await browser.newContext({ viewport: { width: phone.width, height: phone.height } });
  const page = await context.newPage();
  const where = `phone ${pageWithWideCode}`;
  try {
    await page.goto(base + pageWithWideCode);
    const menu = page.locator('.menu-toggle');
    if (!(await menu.isVisible())) {
      report(where, 'no menu button at phone width');
    } else {
      await menu.focus();
      await page.keyboard.press('Enter');
      if ((await menu.getAttribute('aria-expanded')) !== 'true') report(where, 'Enter on the menu button does not set aria-expanded=true');
      if (!(await page.locator('.sidebar').isVisible())) report(where, 'Enter on the menu button does not show the sidebar');
      const inside = await page.evaluate(() => document.activeElement?.closest('.sidebar') !== null);
      if (!inside) report(where, 'opening the menu does not move focus into it');
      await page.keyboard.press('Escape');
      if (await page.locator('.sidebar').isVisible()) report(where, 'Escape does not close the menu');
      await expectFocus(page, where, report, 'Escape should return focus to the menu button', (f) => f.cls.includes('menu-toggle'));
    }
    // Scrollable code: reachable by Tab (tabindex=0) and scrolled by the arrow keys.
    const wide = page.locator('pre.code.scrolls > code').first();
    if ((await wide.count()) === 0) {
      report(where, 'no code block scrolls sideways at phone width (expected one on this page: the check has nothing to test)');
    } else {
      const tabIndex = await wide.evaluate((el) => (el as HTMLElement).tabIndex);
      if (tabIndex !== 0) report(where, `a code block that scrolls sideways has tabindex ${tabIndex}, so the keyboard cannot reach it`);
      await wide.focus();
      const before = await wide.evaluate((el) => el.scrollLeft);
      for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
      // Chromium scrolls smoothly: the key starts an animation that lands a few frames later (later
      // still on a loaded machine), so wait for the block to move, bounded, rather than read at once.
      // (Polled from here: a function handed to evaluate() must not define named functions, which
      // the TypeScript loader wraps in a helper the page does not have.)
      let moved = false;
      for (const deadline = Date.now() + 5_000; !moved && Date.now() < deadline; ) {
        moved = (await wide.evaluate((el) => el.scrollLeft)) > before;
        if (!moved) await page.waitForTimeout(50);
      }
      if (!moved) report(where, 'ArrowRight on a focused code block does not scroll it (scrollLeft unchanged 5 s after five presses)');
      const f = await focused(page);
      if (f === null || !f.visibleFocus) report(where, 'a focused code block shows no focus outline');
    }
    // Every block that scrolls must be focusable; none that does not.
    const wrong = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('pre.code > code, .table-wrap'))
        .filter((el) => el.scrollWidth > el.clientWidth + 1 !== (el.tabIndex === 0))
        .map((el) => (el.textContent ?? '').trim().slice(0, 40)),
    );
    for (const w of wrong) report(where, `a block's focusability does not match whether it scrolls: "${w}"`);
  } finally {
    await context.close();
  }
}
