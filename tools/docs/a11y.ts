// Accessibility checks for the docs browser test: axe-core (WCAG 2.0/2.1 A and AA rules) injected
// into a page from node_modules (nothing is fetched), and its violations summarised by rule.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;

export interface AxeViolation {
  readonly rule: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: readonly { readonly target: string; readonly summary: string }[];
}

let axeSource: string | undefined;

function axeScript(): string {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

interface AxeResultJson {
  violations: {
    id: string;
    impact?: string | null;
    help: string;
    nodes: { target: unknown[]; failureSummary?: string }[];
  }[];
}

// The rules whose outcome depends on colours alone: all a change of theme can break.
export const COLOUR_RULES = ['color-contrast', 'link-in-text-block'] as const;
// The rules whose outcome depends on the layout as well: all a change of width can break (the DOM,
// its names, roles and attributes, stays the same; the client script re-marks what scrolls).
export const LAYOUT_RULES = [...COLOUR_RULES, 'scrollable-region-focusable', 'aria-hidden-focus', 'nested-interactive'] as const;

// Marks, for the two colour rules, one element per distinct look, so axe checks that one:
//   - color-contrast: elements with text, by their own colour, size, weight and shadow and the
//     colours and opacity of everything behind them up to the first opaque background;
//   - link-in-text-block: links, by their colour, decoration, weight and border and those of the
//     block of text around them.
// Two elements that look alike in that sense pass or fail together. A page of highlighted code has
// thousands of text elements but a few dozen looks, so the colour rules run many times faster.
async function markDistinctLooks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const TEXT = 'data-axe-look';
    const LINK = 'data-axe-link-look';
    for (const el of Array.from(document.querySelectorAll(`[${TEXT}], [${LINK}]`))) {
      el.removeAttribute(TEXT);
      el.removeAttribute(LINK);
    }
    const behind = new Map<Element, string>();
    const backdrop = (el: Element | null): string => {
      if (el === null) return '';
      const cached = behind.get(el);
      if (cached !== undefined) return cached;
      const cs = getComputedStyle(el);
      const own = `${cs.backgroundColor}|${cs.backgroundImage}|${cs.opacity}|${cs.position}|${cs.mixBlendMode}|${cs.filter}`;
      const opaque = cs.backgroundImage === 'none' && /^rgb\(/.test(cs.backgroundColor) && cs.opacity === '1';
      const key = opaque ? own : `${own}/${backdrop(el.parentElement)}`;
      behind.set(el, key);
      return key;
    };
    const seen = new Set<string>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el === null || (n.textContent ?? '').trim() === '' || el.hasAttribute(TEXT)) continue;
      const cs = getComputedStyle(el);
      const look = `${el.tagName}|${cs.color}|${cs.fontSize}|${cs.fontWeight}|${cs.textShadow}|${cs.visibility}|${backdrop(el)}`;
      if (seen.has(look)) continue;
      seen.add(look);
      el.setAttribute(TEXT, '');
    }
    const links = new Set<string>();
    const style = (el: Element): string => {
      const cs = getComputedStyle(el);
      return `${cs.color}|${cs.textDecorationLine}|${cs.textDecorationStyle}|${cs.fontWeight}|${cs.borderBottomStyle}|${cs.backgroundColor}|${cs.backgroundImage}`;
    };
    for (const a of Array.from(document.querySelectorAll('a[href], [role="link"]'))) {
      let block: Element | null = a.parentElement;
      while (block !== null && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
      const look = `${style(a)}/${block === null ? '' : style(block)}`;
      if (links.has(look)) continue;
      links.add(look);
      a.setAttribute(LINK, '');
    }
  });
}

// Runs axe on the page as it is now (theme, width and scroll position included): every WCAG 2.0/2.1
// A and AA rule, or only `rules` when given. The contrast rule runs on one element per look (see
// markDistinctLooks), every other rule on the whole page.
export async function runAxe(page: Page, rules?: readonly string[]): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) {
    // The colour rules look only at the elements markDistinctLooks marked (their selectors are
    // replaced; what they check about each element is unchanged). tsx (esbuild with keepNames) wraps
    // named inner functions of the callbacks below in __name(), which the page lacks: add a no-op one.
    await page.addScriptTag({
      content: `${axeScript()}
window.axe.configure({ rules: [
  { id: 'color-contrast', selector: '[data-axe-look]' },
  { id: 'link-in-text-block', selector: '[data-axe-link-look]' },
] });
window.__name = window.__name || ((f) => f);`,
    });
  }
  if (rules === undefined || rules.some((r) => (COLOUR_RULES as readonly string[]).includes(r))) await markDistinctLooks(page);
  const runOnly = rules === undefined ? { type: 'tag', values: [...AXE_TAGS] } : { type: 'rule', values: [...rules] };
  const result = await page.evaluate(async (only: unknown) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<AxeResultJson> } }).axe;
    return axe.run(document, { runOnly: only, resultTypes: ['violations'] });
  }, runOnly);
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact ?? '?',
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))).join(' > '),
      summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
    })),
  }));
}

// Counts of violating nodes by rule, over many runs.
export class AxeTally {
  readonly byRule = new Map<string, number>();
  runs = 0;

  add(violations: readonly AxeViolation[]): void {
    this.runs += 1;
    for (const v of violations) this.byRule.set(v.rule, (this.byRule.get(v.rule) ?? 0) + v.nodes.length);
  }

  get total(): number {
    let n = 0;
    for (const c of this.byRule.values()) n += c;
    return n;
  }

  table(): string {
    return [...this.byRule.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([rule, n]) => `${rule}: ${n}`)
      .join(', ');
  }
}

export interface Viewport {
  readonly name: string;
  readonly width: number;
  readonly height: number;
}

export const VIEWPORTS: readonly Viewport[] = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];
export const THEMES = ['light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

export interface AuditRun {
  readonly viewport: string;
  readonly theme: Theme;
  readonly violations: readonly AxeViolation[];
}

// Audits the loaded page in every viewport and theme without reloading it: every rule at the first
// viewport in the light theme; elsewhere the rules a change of width (LAYOUT_RULES) or of theme
// (COLOUR_RULES) can break. everyThemeAtEveryWidth: false leaves out the other themes at the other
// widths (the page is still checked at every width, and in every theme at the first). Leaves the page
// at the first viewport, light.
export async function auditPage(page: Page, options: { everyThemeAtEveryWidth?: boolean } = {}): Promise<AuditRun[]> {
  const runs: AuditRun[] = [];
  for (const vp of VIEWPORTS) {
    if (page.viewportSize()?.width !== vp.width) {
      await page.setViewportSize({ width: vp.width, height: vp.height });
      // The page re-marks blocks that scroll sideways when they resize (a ResizeObserver, run
      // before the next paint): wait for two frames.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    }
    for (const theme of THEMES) {
      // Without everyThemeAtEveryWidth, the other widths are checked in the first theme only.
      if (options.everyThemeAtEveryWidth === false && vp !== VIEWPORTS[0] && theme !== THEMES[0]) continue;
      await page.emulateMedia({ colorScheme: theme });
      const first = vp === VIEWPORTS[0] && theme === THEMES[0];
      runs.push({ viewport: vp.name, theme, violations: await runAxe(page, first ? undefined : vp === VIEWPORTS[0] ? COLOUR_RULES : LAYOUT_RULES) });
    }
  }
  const first = VIEWPORTS[0];
  if (first !== undefined) await page.setViewportSize({ width: first.width, height: first.height });
  await page.emulateMedia({ colorScheme: 'light' });
  return runs;
}
