// The course site: one source (each phase's README.md, docs/*.md, the top-level README.md), rendered
// with markdown-it into a self-contained static folder. Nothing the browser loads leaves that folder.
//
//   buildSite() -> docs/dist/{index.html, <page>.html, files.html, repo/<path>.html (source views),
//                             repo/<path> (images), <lang>/<page>.html (translations), assets/, manifest.json}
//
// Translations: a file `<name>.<lang>.md` beside `<name>.md` (e.g. docs/glossary.zh-Hans.md,
// phase1-shm/README.zh-Hans.md) is that page in <lang>, for every <lang> that has its interface
// strings in docs/i18n/<lang>.json. It is rendered at <lang>/<page>.html with lang="<lang>", and the
// two versions link to each other. Nothing else needs to change to add a language or a page.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';

import MiniSearch from 'minisearch';
import ts from 'typescript';

import { PHASES, REPO_ROOT, hasSolutions } from '../../lib/phases.js';
import { readManifest } from '../grading/manifest.js';
import { RepoFacts, checkCodeSpan, checkText, isRepoDir, listRepoFiles, repoPathExists, type CheckContext, type Problem } from './checks.js';
import { ADMONITION_NAMES, createMarkdown, fenceLanguage, inlineText, markCjk, renderCodeBlock, type Token } from './markdown.js';
import { searchTokens } from './search-text.js';

const require = createRequire(import.meta.url);

export const DOCS_DIR = join(REPO_ROOT, 'docs');
export const DIST_DIR = join(DOCS_DIR, 'dist');
export const SITE_NAME = 'Mini-Ray';
export const SEARCH_OPTIONS = {
  fields: ['heading', 'page', 'text'],
  storeFields: ['page', 'heading', 'url', 'excerpt', 'lang'],
} as const;

type Group = 'Start here' | 'Phases' | 'Reference' | 'Instructors';
const GROUPS: readonly Group[] = ['Start here', 'Phases', 'Reference', 'Instructors'];

// Pages for instructors only. The course repository's site lists them under "Instructors"; the
// student release leaves the files out (tools/grading/release.ts), and a checkout without
// solutions/ never shows them even if they are there.
export const INSTRUCTOR_DOCS: readonly string[] = ['docs/instructor-guide.md'];

interface PageDef {
  readonly source: string; // repository path of the Markdown file
  readonly url: string; // site path of the HTML page
  readonly group: Group;
  readonly label?: string; // small label above the title in the sidebar ('Phase 1')
  readonly lang: string; // BCP 47: 'en', or the translation's language
  readonly original?: string; // for a translation: the url of the page it translates
}

interface TocEntry {
  readonly level: number;
  readonly id: string;
  readonly text: string;
}

interface Page extends PageDef {
  readonly tokens: Token[];
  readonly title: string;
  readonly ids: ReadonlySet<string>;
  readonly toc: readonly TocEntry[];
  readonly images: readonly { readonly alt: string; readonly line: number }[];
}

export interface ManifestPage {
  readonly url: string;
  readonly title: string;
  readonly source: string;
  readonly kind: 'page' | 'source' | 'index';
  readonly lang: string;
}

export interface Manifest {
  readonly pages: readonly ManifestPage[];
  readonly sidebar: readonly string[]; // page urls in reading order (the English site)
  readonly sidebars: Readonly<Record<string, readonly string[]>>; // the same, per language
}

export interface BuildResult {
  readonly outDir: string;
  readonly pages: readonly ManifestPage[];
  readonly problems: readonly Problem[];
}

// ---------------------------------------------------------------------------------------------
// Which pages exist, in reading order.

const START_DOCS = ['index', 'getting-started', 'architecture'];
const REFERENCE_DOCS = ['debugging', 'glossary', 'faq'];
export const SITE_LANG = 'en';

function phaseDirs(): { dir: string; label: string }[] {
  const known = PHASES.map((p) => p.dir);
  const found = readdirSync(REPO_ROOT).filter((d) => /^phase\d+-/.test(d) && !known.includes(d));
  const all = [...known, ...found].filter((d) => existsSync(join(REPO_ROOT, d, 'README.md')));
  all.sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  return all.map((dir) => ({ dir, label: `Phase ${/\d+/.exec(dir)?.[0] ?? ''}` }));
}

// Interface strings of the languages the site is translated into (docs/i18n/<lang>.json).
export interface UiStrings {
  readonly languageName: string; // in the language itself: '简体中文'
  readonly skip: string;
  readonly search: string;
  readonly menu: string;
  readonly onThisPage: string;
  readonly previous: string;
  readonly next: string;
  readonly pageSource: string; // 'This page is {source} in the course repository.'
  readonly otherLanguage: string; // the link to the other version: 'Read this page in English'
  readonly groups: Readonly<Record<Group, string>>;
}

const EN: UiStrings = {
  languageName: 'English',
  skip: 'Skip to content',
  search: 'Search the course',
  menu: 'Show the list of pages',
  onThisPage: 'On this page',
  previous: 'Previous',
  next: 'Next',
  pageSource: 'This page is {source} in the course repository.',
  otherLanguage: 'Read this page in English',
  groups: { 'Start here': 'Start here', Phases: 'Phases', Reference: 'Reference', Instructors: 'Instructors' },
};

export function translations(): Map<string, UiStrings> {
  const out = new Map<string, UiStrings>();
  const dir = join(DOCS_DIR, 'i18n');
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    out.set(f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), 'utf8')) as UiStrings);
  }
  return out;
}

function uiFor(lang: string, langs: ReadonlyMap<string, UiStrings>): UiStrings {
  return langs.get(lang) ?? EN;
}

export function pageDefs(langs: ReadonlyMap<string, UiStrings> = translations()): PageDef[] {
  const defs: PageDef[] = [];
  const instructor = hasSolutions();
  const docs = readdirSync(DOCS_DIR)
    .filter((f) => f.endsWith('.md') && !/\.[a-z]{2}(-[A-Za-z]+)?\.md$/.test(f))
    .map((f) => f.slice(0, -3))
    .filter((d) => instructor || !INSTRUCTOR_DOCS.includes(`docs/${d}.md`));
  const isInstructor = (d: string): boolean => INSTRUCTOR_DOCS.includes(`docs/${d}.md`);
  for (const name of START_DOCS) {
    if (docs.includes(name)) defs.push({ source: `docs/${name}.md`, url: `${name}.html`, group: 'Start here', lang: SITE_LANG });
  }
  for (const { dir, label } of phaseDirs()) {
    defs.push({ source: `${dir}/README.md`, url: `${dir}.html`, group: 'Phases', label, lang: SITE_LANG });
  }
  const rest = [
    ...REFERENCE_DOCS.filter((d) => docs.includes(d)),
    ...docs.filter((d) => !START_DOCS.includes(d) && !REFERENCE_DOCS.includes(d) && !isInstructor(d)).sort(),
  ];
  for (const name of rest) defs.push({ source: `docs/${name}.md`, url: `${name}.html`, group: 'Reference', lang: SITE_LANG });
  if (existsSync(join(REPO_ROOT, 'README.md'))) defs.push({ source: 'README.md', url: 'readme.html', group: 'Reference', label: 'Repository', lang: SITE_LANG });
  for (const name of docs.filter(isInstructor)) defs.push({ source: `docs/${name}.md`, url: `${name}.html`, group: 'Instructors', lang: SITE_LANG });
  // Translations, in the same order.
  const translated: PageDef[] = [];
  for (const lang of langs.keys()) {
    for (const d of defs) {
      const source = d.source.replace(/\.md$/, `.${lang}.md`);
      if (existsSync(join(REPO_ROOT, source))) translated.push({ ...d, source, url: `${lang}/${d.url}`, lang, original: d.url });
    }
  }
  return [...defs, ...translated];
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking.

const md = createMarkdown();

function attr(token: Token, name: string): string | null {
  const v = token.attrGet(name);
  return v === null ? null : String(v);
}

function htmlImages(html: string, line: number): { alt: string; line: number }[] {
  return Array.from(html.matchAll(/<img\b[^>]*>/g), (m) => ({ alt: /\balt\s*=\s*"([^"]*)"/.exec(m[0])?.[1] ?? '', line }));
}

// A diagram's text alternative must say what the picture shows: several words, not a label.
export function altProblem(alt: string): string | undefined {
  const words = alt.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return 'has no text alternative: write what the picture shows in its alt text';
  if (/^(diagram|image|picture|figure|img|svg|screenshot|graphic)s?\b/i.test(alt.trim()) && words.length < 6) {
    return `alt text '${alt}' names the kind of picture: say what it shows`;
  }
  if (words.length < 4) return `alt text '${alt}' is too short to say what the picture shows (4 words at least)`;
  return undefined;
}

function parsePage(def: PageDef): Page {
  const text = readFileSync(join(REPO_ROOT, def.source), 'utf8');
  const tokens = md.parse(text, {});
  const ids = new Set<string>();
  const toc: TocEntry[] = [];
  const images: { alt: string; line: number }[] = [];
  let title = '';
  tokens.forEach((t, i) => {
    const line = (t.map?.[0] ?? 0) + 1;
    for (const child of t.children ?? []) {
      if (child.type === 'image') images.push({ alt: child.content, line });
      if (child.type === 'html_inline') images.push(...htmlImages(child.content, line));
    }
    if (t.type === 'html_block') images.push(...htmlImages(t.content, line));

    const id = attr(t, 'id');
    if (id !== null) ids.add(id);
    if (t.type === 'heading_open') {
      const headingText = inlineText(tokens[i + 1]);
      if (t.tag === 'h1' && title === '') title = headingText;
      if ((t.tag === 'h2' || t.tag === 'h3') && id !== null) toc.push({ level: Number(t.tag[1]), id, text: headingText });
    }
    if (t.type === 'html_block' || t.type === 'html_inline') {
      for (const m of t.content.matchAll(/\bid\s*=\s*"([^"]+)"/g)) ids.add(m[1] ?? '');
    }
  });
  if (title === '') title = def.source;
  return { ...def, tokens, title, ids, toc, images };
}

// Where a relative link in a page points.
type Target =
  | { kind: 'external' }
  | { kind: 'anchor'; fragment: string }
  | { kind: 'repo'; path: string; fragment: string; isDir: boolean };

function resolveLink(href: string, source: string): Target | string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
    return /^(https?|mailto):/i.test(href) ? { kind: 'external' } : `link '${href}': only http(s) and mailto links may leave the site`;
  }
  if (href.startsWith('/')) return `link '${href}' is absolute: use a relative path, so it works on the forge and the site`;
  const hash = href.indexOf('#');
  const pathPart = decodeURIComponent(hash === -1 ? href : href.slice(0, hash)).replace(/\?.*$/, '');
  const fragment = hash === -1 ? '' : decodeURIComponent(href.slice(hash + 1));
  if (pathPart === '') return { kind: 'anchor', fragment };
  const resolved = posix.normalize(posix.join(posix.dirname(source), pathPart)).replace(/\/$/, '');
  if (resolved.startsWith('..')) return `link '${href}' leaves the repository`;
  if (!repoPathExists(resolved)) return `link '${href}' points to ${resolved}, which does not exist`;
  return { kind: 'repo', path: resolved, fragment, isDir: isRepoDir(resolved) };
}

// Files the site copies or shows as highlighted source: repository path -> site path.
class Assets {
  readonly files = new Map<string, string>();
  readonly sourceViews = new Map<string, string>();

  file(path: string): string {
    const url = `repo/${path}`;
    this.files.set(path, url);
    return url;
  }

  sourceView(path: string): string {
    const url = `repo/${path}.html`;
    this.sourceViews.set(path, url);
    return url;
  }
}

const BINARY = /\.(png|jpe?g|gif|svg|webp|ico|pdf|node|gz|tgz|zip)$/i;

export function relativeUrl(from: string, to: string): string {
  const rel = posix.relative(posix.dirname(from), to);
  return rel === '' ? posix.basename(to) : rel;
}

interface LinkContext {
  readonly page: Page;
  readonly pagesBySource: ReadonlyMap<string, Page>;
  readonly assets: Assets;
  readonly problems: Problem[];
}

// The site URL (relative to the page) a Markdown link or image becomes, or undefined when it is broken.
function rewrite(ctx: LinkContext, href: string, line: number, image: boolean): string | undefined {
  const problem = (message: string): undefined => {
    ctx.problems.push({ file: ctx.page.source, line, message });
    return undefined;
  };
  const target = resolveLink(href, ctx.page.source);
  if (typeof target === 'string') return problem(target);
  if (target.kind === 'external') return image ? problem(`image '${href}' is not in the repository: the site loads nothing from outside`) : href;
  if (target.kind === 'anchor') {
    if (!ctx.page.ids.has(target.fragment)) return problem(`link '${href}': no heading '#${target.fragment}' on this page`);
    return href;
  }
  let path = target.path;
  if (target.isDir) {
    if (image) return problem(`image '${href}' is a directory`);
    if (!ctx.pagesBySource.has(`${path}/README.md`)) return problem(`link '${href}' points to the folder ${path}/: link a file in it`);
    path = `${path}/README.md`;
  }
  const frag = target.fragment === '' ? '' : `#${encodeURIComponent(target.fragment)}`;
  // A translated page links to the translation of the page it names, where there is one.
  const translated = ctx.page.lang === SITE_LANG ? undefined : ctx.pagesBySource.get(path.replace(/\.md$/, `.${ctx.page.lang}.md`));
  const linked = translated ?? ctx.pagesBySource.get(path);
  if (linked !== undefined && !image) {
    if (target.fragment !== '' && !linked.ids.has(target.fragment)) {
      return problem(`link '${href}': ${path} has no heading '#${target.fragment}'`);
    }
    return relativeUrl(ctx.page.url, linked.url) + frag;
  }
  if (target.fragment !== '') return problem(`link '${href}': anchors only work into Markdown pages`);
  const url = image || BINARY.test(path) ? ctx.assets.file(path) : ctx.assets.sourceView(path);
  return relativeUrl(ctx.page.url, url);
}

function rewriteHtml(ctx: LinkContext, html: string, line: number): string {
  return html.replace(/\b(href|src)\s*=\s*"([^"]*)"/g, (whole, attr: string, value: string, at: number) => {
    const url = rewrite(ctx, value, line + (html.slice(0, at).match(/\n/g) ?? []).length, attr === 'src');
    return url === undefined ? whole : `${attr}="${md.utils.escapeHtml(url)}"`;
  });
}

// "Graded by N public tests and M hidden" in a checklist item's section must say what the phase's
// manifest (tools/grading/manifests/phaseN.json) says: counts typed by hand drift as tests are added.
function checkGradedCounts(ctx: LinkContext, item: string, text: string, line: number): void {
  const m = /Graded by (\d+) public tests? and (\d+) hidden/.exec(text.replace(/\s+/g, ' '));
  if (m === null) return;
  const phase = PHASES.find((p) => p.id === `phase${item.split('.')[0] ?? ''}`);
  const manifest = phase === undefined ? undefined : readManifest(REPO_ROOT, phase.id);
  if (manifest === undefined) return;
  const tests = manifest.tests.filter((t) => t.item === item);
  const shown = tests.filter((t) => !t.hidden).length;
  const hidden = tests.length - shown;
  // A student release's manifests list no hidden test: there only the public count can be checked.
  if (Number(m[1]) !== shown || (hasSolutions() && Number(m[2]) !== hidden)) {
    ctx.problems.push({
      file: ctx.page.source,
      line,
      message: `item ${item} says "Graded by ${m[1] ?? ''} public tests and ${m[2] ?? ''} hidden"; the manifest has ${shown} public and ${hidden} hidden (run npm run course -- manifest, then fix the text)`,
    });
  }
}

// Walks a page's tokens: rewrites links and images to site paths, and runs the reference checks.
function processPage(ctx: LinkContext, facts: RepoFacts): void {
  const forStudents = ctx.page.source !== 'README.md' && !INSTRUCTOR_DOCS.includes(ctx.page.source.replace(/\.[\w-]+\.md$/, '.md'));
  const check: CheckContext = { facts, source: ctx.page.source, problems: ctx.problems, forStudents };
  for (const img of ctx.page.images) {
    const problem = altProblem(img.alt);
    if (problem !== undefined) ctx.problems.push({ file: ctx.page.source, line: img.line, message: `an image ${problem}` });
  }
  const admonitions = new RegExp(`^(${ADMONITION_NAMES.join('|')})\\b`);
  let lastLine = 1;
  let heading: string | undefined; // the open heading's tag, while its text is read
  let item: string | undefined; // the checklist item whose section this is ('1.3')
  for (const token of ctx.page.tokens) {
    // Inline tokens in table cells carry no line map: use the row's.
    const line = token.map === null ? lastLine : token.map[0] + 1;
    lastLine = line;
    if (token.type === 'heading_open') heading = token.tag;
    else if (token.type === 'heading_close') heading = undefined;
    else if (token.type === 'inline' && heading !== undefined) {
      if (heading === 'h2' || heading === 'h3') item = /^(\d+\.\d+) · /.exec(token.content)?.[1];
    } else if (token.type === 'inline' && item !== undefined) {
      checkGradedCounts(ctx, item, token.content, line);
    }
    if (token.type === 'fence') {
      const lang = fenceLanguage(token.info);
      if (lang === undefined) ctx.problems.push({ file: ctx.page.source, line, message: `code fence language '${token.info.trim()}' is not one the site highlights` });
      if (lang === 'bash' || lang === 'plaintext') checkText(check, token.content, line + 1, 'shell');
    } else if (token.type === 'html_block') {
      token.content = rewriteHtml(ctx, token.content, line);
    } else if (token.type === 'inline') {
      // An admonition the container plugin did not recognise is left as a paragraph starting with ':::'.
      const raw = token.content;
      const stray = /^:::\s*(\S*)/.exec(raw);
      if (stray !== null && !admonitions.test(stray[1] ?? '')) {
        ctx.problems.push({
          file: ctx.page.source,
          line,
          message: `'::: ${stray[1] ?? ''}' is not an admonition; use one of ${ADMONITION_NAMES.map((n) => `'::: ${n}'`).join(', ')}`,
        });
      }
      let at = line;
      let inLink = false; // a link's text repeats its target, which the link check already covers
      for (const child of token.children ?? []) {
        if (child.type === 'softbreak' || child.type === 'hardbreak') at += 1;
        else if (child.type === 'link_close') inLink = false;
        else if (child.type === 'text') {
          if (!inLink) checkText(check, child.content, at, 'prose');
        } else if (child.type === 'code_inline' && inLink) continue;
        else if (child.type === 'code_inline') checkCodeSpan(check, child.content, at);
        else if (child.type === 'link_open') {
          const href = attr(child, 'href');
          inLink = href !== null && !/^https?:/i.test(href);
          if (href !== null && attr(child, 'class') !== 'header-anchor') {
            const url = rewrite(ctx, href, at, false);
            if (url !== undefined) child.attrSet('href', url);
            if (/^https?:/i.test(href)) child.attrSet('rel', 'noopener');
          }
        } else if (child.type === 'image') {
          const src = attr(child, 'src');
          if (src !== null) {
            const url = rewrite(ctx, src, at, true);
            if (url !== undefined) child.attrSet('src', url);
          }
        } else if (child.type === 'html_inline') {
          child.content = rewriteHtml(ctx, child.content, at);
          at += (child.content.match(/\n/g) ?? []).length;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTML.

const esc = (s: string): string => md.utils.escapeHtml(s);

// Inline SVG icons (no icon font, no emoji: they render the same on every machine).
const ICON_MENU =
  '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 20 20"><path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';
const ICON_SEARCH =
  '<svg class="search-icon" aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 16 16"><circle cx="7" cy="7" r="5" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M11 11l3.5 3.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>';

interface Shell {
  readonly url: string;
  readonly title: string;
  readonly body: string;
  readonly toc: readonly TocEntry[];
  readonly source: string;
  readonly lang: string;
  readonly nav: readonly NavEntry[]; // the sidebar of this page's language
  readonly alternate?: { readonly url: string; readonly lang: string } | undefined; // the same page in another language
  readonly ui: UiStrings;
}

// One sidebar entry: a page of this language, or the English page where it has no translation.
interface NavEntry {
  readonly url: string;
  readonly group: Group;
  readonly label?: string | undefined;
  readonly title: string;
  readonly lang: string;
}

function navEntries(pages: readonly Page[], lang: string): NavEntry[] {
  return pages
    .filter((p) => p.lang === SITE_LANG)
    .map((p) => {
      const t = lang === SITE_LANG ? undefined : pages.find((x) => x.lang === lang && x.original === p.url);
      const page = t ?? p;
      return { url: page.url, group: p.group, label: p.label, title: navTitle(page), lang: page.lang };
    });
}

function sidebar(shell: Shell): string {
  const out: string[] = [];
  for (const group of GROUPS) {
    const items = shell.nav.filter((p) => p.group === group);
    if (items.length === 0) continue;
    const id = `nav-${group.toLowerCase().replace(/\s+/g, '-')}`;
    out.push(`<p class="sidebar-group" id="${id}">${esc(shell.ui.groups[group])}</p><ul aria-labelledby="${id}">`);
    for (const p of items) {
      const current = p.url === shell.url ? ' aria-current="page" class="active"' : '';
      const label = p.label === undefined ? '' : `<span class="nav-label">${esc(p.label)}</span>`;
      const lang = p.lang === shell.lang ? '' : ` lang="${esc(p.lang)}" hreflang="${esc(p.lang)}"`;
      out.push(`<li><a href="${relativeUrl(shell.url, p.url)}"${current}${lang}>${label}<span class="nav-title">${esc(p.title)}</span></a></li>`);
    }
    out.push('</ul>');
  }
  return out.join('\n');
}

function navTitle(p: Page): string {
  const base = p.original ?? p.url;
  if (p.group === 'Phases') return p.title.replace(/^Phase\s*\d+\s*[:·.—–-]\s*/i, '');
  if (base === 'index.html') return p.lang === SITE_LANG ? 'Home' : p.title;
  if (base === 'readme.html') return 'README';
  return p.title;
}

function pager(shell: Shell): string {
  const i = shell.nav.findIndex((p) => p.url === shell.url);
  if (i === -1) return '';
  const prev = shell.nav[i - 1];
  const next = shell.nav[i + 1];
  const link = (p: NavEntry | undefined, rel: 'prev' | 'next'): string =>
    p === undefined
      ? '<span></span>'
      : `<a class="pager-${rel}" rel="${rel}" href="${relativeUrl(shell.url, p.url)}"><span class="pager-dir">${rel === 'prev' ? `<span aria-hidden="true">← </span>${esc(shell.ui.previous)}` : `${esc(shell.ui.next)}<span aria-hidden="true"> →</span>`}</span><span class="pager-title">${esc(p.label === undefined ? p.title : `${p.label}: ${p.title}`)}</span></a>`;
  return `<nav class="pager" aria-label="${esc(shell.ui.previous)} / ${esc(shell.ui.next)}">${link(prev, 'prev')}${link(next, 'next')}</nav>`;
}

function tocHtml(toc: readonly TocEntry[], ui: UiStrings): string {
  if (toc.length === 0) return '';
  const items = toc
    .map((t) => `<li class="toc-h${t.level}"><a href="#${encodeURIComponent(t.id)}">${markCjkText(t.text)}</a></li>`)
    .join('\n');
  return `<nav class="toc" aria-labelledby="toc-title"><p class="toc-title" id="toc-title">${esc(ui.onThisPage)}</p><ul>${items}</ul></nav>`;
}

function markCjkText(text: string): string {
  return markCjk(esc(text));
}

function layout(shell: Shell): string {
  const root = relativeUrl(shell.url, 'index.html').replace(/index\.html$/, '');
  const a = (p: string): string => `${root}assets/${p}`;
  const ui = shell.ui;
  const alt = shell.alternate;
  const altHead = alt === undefined ? '' : `\n<link rel="alternate" hreflang="${esc(alt.lang)}" href="${relativeUrl(shell.url, alt.url)}">`;
  const altLink =
    alt === undefined
      ? ''
      : `<a class="lang-switch" href="${relativeUrl(shell.url, alt.url)}" hreflang="${esc(alt.lang)}" lang="${esc(alt.lang)}">${esc(translationsCache.get(alt.lang)?.otherLanguage ?? EN.otherLanguage)}</a>`;
  return `<!doctype html>
<html lang="${esc(shell.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(shell.title)} · ${SITE_NAME}</title>
<link rel="icon" href="${a('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${a('hljs.css')}">
<link rel="stylesheet" href="${a('style.css')}">${altHead}
</head>
<body data-root="${esc(root)}">
<a class="skip-link" href="#content">${esc(ui.skip)}</a>
<header class="topbar">
  <button class="menu-toggle" type="button" aria-label="${esc(ui.menu)}" aria-expanded="false" aria-controls="sidebar">${ICON_MENU}</button>
  <a class="brand" href="${root}${shell.lang === SITE_LANG ? '' : `${shell.lang}/`}index.html"><span class="brand-mark" aria-hidden="true"></span>${SITE_NAME}<span class="brand-sub">build Plasma's object store</span></a>
  <div class="search" role="search">
    ${ICON_SEARCH}
    <input id="search-input" type="search" placeholder="${esc(ui.search)}" aria-label="${esc(ui.search)}" autocomplete="off" spellcheck="false"
      data-scripts="${a('minisearch.js')} ${a('search-index.js')}" role="combobox" aria-expanded="false" aria-controls="search-results" aria-autocomplete="list" aria-keyshortcuts="/">
    <kbd class="search-key" aria-hidden="true">/</kbd>
    <div id="search-results" class="search-results" hidden></div>
    <p id="search-status" class="visually-hidden" role="status" aria-live="polite"></p>
  </div>
</header>
<div class="layout${shell.toc.length === 0 ? ' no-toc' : ''}">
<nav class="sidebar" id="sidebar" aria-label="Course">
${sidebar(shell)}
</nav>
<main class="content" id="content" tabindex="-1">
${altLink === '' ? '' : `<p class="lang-bar">${altLink}</p>\n`}<article class="markdown">
${shell.body}
</article>
${pager(shell)}
<footer class="page-source">${esc(ui.pageSource).replace('{source}', `<code>${esc(shell.source)}</code>`)}</footer>
</main>
${tocHtml(shell.toc, ui)}
</div>
<script src="${a('site.js')}"></script>
</body>
</html>
`;
}

// The language of a source file, for highlighting.
function sourceLanguage(path: string): string {
  const ext = posix.extname(path).slice(1);
  return fenceLanguage(ext === 'ts' ? 'typescript' : ext === 'md' ? 'markdown' : ext === 'gyp' ? 'python' : ext) ?? 'plaintext';
}

function sourceViewBody(path: string): string {
  const text = readFileSync(join(REPO_ROOT, path), 'utf8');
  const lang = sourceLanguage(path);
  const n = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  return `<h1 id="source">${esc(path)}</h1>
<p class="source-meta">${n} lines · as it is in the repository · link a line as <code>${esc(posix.basename(path))}.html#L<var>n</var></code></p>
${renderCodeBlock(text, { lang, numbered: true, extraClass: 'source' })}`;
}

// ---------------------------------------------------------------------------------------------
// Source views: every file a lesson links, and every file a student reads in each phase (the code
// they edit, the given glue and harness, the public tests) and in native-common/.

const VIEWABLE = /\.(cc|cpp|c|h|hpp|ts|js|json|gyp|md|txt|sh|ya?ml)$/;

export function studentSourceFiles(): string[] {
  const dirs = [...phaseDirs().map((p) => p.dir), 'native-common'];
  return listRepoFiles()
    .filter((f) => dirs.includes(f.split('/')[0] ?? ''))
    .filter((f) => VIEWABLE.test(f) && !/(^|\/)README(\.[\w-]+)?\.md$/.test(f) && !f.split('/').includes('hidden'))
    .filter((f) => statSync(join(REPO_ROOT, f)).size < 200_000)
    .sort();
}

function filesPageBody(paths: readonly string[], sourceViews: ReadonlyMap<string, string>): string {
  const byDir = new Map<string, string[]>();
  for (const p of paths) {
    const dir = posix.dirname(p);
    byDir.set(dir, [...(byDir.get(dir) ?? []), p]);
  }
  const sections = [...byDir.entries()]
    .sort((x, y) => x[0].localeCompare(y[0]))
    .map(([dir, files]) => {
      const items = files
        .map((f) => `<li><a href="${relativeUrl(FILES_URL, sourceViews.get(f) ?? '')}"><code>${esc(posix.basename(f))}</code></a></li>`)
        .join('');
      return `<h2 id="${esc(dir.replace(/[^\w-]+/g, '-'))}"><code>${esc(dir)}/</code></h2>\n<ul class="file-list">${items}</ul>`;
    });
  return `<h1 id="source-files">Source files</h1>
<p>The code of every phase as it is in the repository, highlighted, with line numbers: the files you
edit, the glue and harness that call them, and the public tests that grade them.</p>
${sections.join('\n')}`;
}

const FILES_URL = 'files.html';

// ---------------------------------------------------------------------------------------------
// Search: one document per section (h1-h3), indexed at build time, loaded by the page as a script.
// Terms come from searchTokens() (tools/docs/search-text.ts) on both sides, so Chinese text is found.

function searchIndex(pages: readonly Page[]): string {
  interface Doc {
    id: string;
    page: string;
    heading: string;
    url: string;
    text: string;
    excerpt: string;
    lang: string;
  }
  const docs: Doc[] = [];
  for (const page of pages) {
    let current: Doc | undefined;
    const flush = (): void => {
      if (current !== undefined) {
        current.excerpt = current.text.replace(/\s+/g, ' ').trim().slice(0, 180);
        docs.push(current);
      }
    };
    page.tokens.forEach((t, i) => {
      if (t.type === 'heading_open' && ['h1', 'h2', 'h3'].includes(t.tag)) {
        flush();
        const id = attr(t, 'id') ?? '';
        const heading = inlineText(page.tokens[i + 1]);
        current = { id: `${page.url}#${id}`, page: page.title, heading, url: t.tag === 'h1' ? page.url : `${page.url}#${id}`, text: '', excerpt: '', lang: page.lang };
        return;
      }
      if (current === undefined) return;
      const prev = page.tokens[i - 1];
      if (t.type === 'inline' && prev?.type !== 'heading_open') current.text += ` ${inlineText(t)}`;
      else if (t.type === 'fence' || t.type === 'code_block') current.text += ` ${t.content}`;
    });
    flush();
  }
  const search = new MiniSearch<Doc>({ fields: [...SEARCH_OPTIONS.fields], storeFields: [...SEARCH_OPTIONS.storeFields], tokenize: searchTokens });
  search.addAll(docs);
  const payload = { index: JSON.stringify(search), options: SEARCH_OPTIONS };
  return `window.COURSE_SEARCH = ${JSON.stringify(payload)};\n`;
}

// ---------------------------------------------------------------------------------------------
// The client script is TypeScript (type-checked with the rest), transpiled here, no bundler needed:
// each module in order, its relative imports and exports dropped, all in one function scope.

const CLIENT_MODULES = ['tools/docs/search-text.ts', 'tools/docs/client.ts'];

export function clientScript(): string {
  const parts = CLIENT_MODULES.map((file) => {
    const src = readFileSync(join(REPO_ROOT, file), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, removeComments: false },
    }).outputText;
    return `// ${file}\n${js
      .replace(/^import\s[^;]*from\s+'\.\/[\w-]+\.js';\s*$/gm, '')
      .replace(/^export\s*\{\s*\};?\s*$/gm, '')
      .replace(/^export\s+(?=(const|let|function|class)\b)/gm, '')}`;
  });
  const out = `(() => {\n'use strict';\n${parts.join('\n')}\n})();\n`;
  const leftover = /^\s*(import|export)\b.*$/m.exec(out);
  if (leftover !== null) throw new Error(`the client script still has a module statement after bundling: ${leftover[0]}`);
  return out;
}

function writeFile(outDir: string, rel: string, content: string): void {
  const file = join(outDir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

let translationsCache: ReadonlyMap<string, UiStrings> = new Map();

export function buildSite(outDir: string = DIST_DIR): BuildResult {
  const problems: Problem[] = [];
  const facts = new RepoFacts();
  const langs = translations();
  translationsCache = langs;
  const pages = pageDefs(langs).map(parsePage);
  for (const phase of PHASES) {
    if (!existsSync(join(REPO_ROOT, phase.dir, 'README.md'))) {
      problems.push({ file: `${phase.dir}/README.md`, line: 1, message: `phase ${phase.id} has no lesson (README.md)` });
    }
  }
  const pagesBySource = new Map(pages.map((p) => [p.source, p]));
  const assets = new Assets();
  for (const page of pages) processPage({ page, pagesBySource, assets, problems }, facts);
  const listed = studentSourceFiles();
  for (const f of listed) assets.sourceView(f);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const manifest: ManifestPage[] = [];
  const navs = new Map<string, NavEntry[]>([[SITE_LANG, navEntries(pages, SITE_LANG)], ...[...langs.keys()].map((l) => [l, navEntries(pages, l)] as [string, NavEntry[]])]);
  const englishNav = navs.get(SITE_LANG) ?? [];
  // The source-file index sits at the end of the reference pages, before the instructors'.
  const filesEntry: NavEntry = { url: FILES_URL, group: 'Reference', title: 'Source files', lang: SITE_LANG };
  const lastReference = englishNav.map((e) => e.group).lastIndexOf('Reference');
  englishNav.splice(lastReference + 1, 0, filesEntry);
  for (const page of pages) {
    const body = md.renderer.render(page.tokens, md.options, { lang: page.lang });
    const counterpart = page.original ?? pages.find((p) => p.original === page.url)?.url;
    const counterpartLang = page.original === undefined ? pages.find((p) => p.original === page.url)?.lang : SITE_LANG;
    writeFile(
      outDir,
      page.url,
      layout({
        url: page.url,
        title: page.title,
        body,
        toc: page.toc,
        source: page.source,
        lang: page.lang,
        nav: navs.get(page.lang) ?? englishNav,
        alternate: counterpart === undefined || counterpartLang === undefined ? undefined : { url: counterpart, lang: counterpartLang },
        ui: uiFor(page.lang, langs),
      }),
    );
    manifest.push({ url: page.url, title: page.title, source: page.source, kind: 'page', lang: page.lang });
  }
  const shellFor = (url: string, title: string, body: string, source: string): Shell => ({ url, title, body, toc: [], source, lang: SITE_LANG, nav: englishNav, ui: EN });
  writeFile(outDir, FILES_URL, layout(shellFor(FILES_URL, 'Source files', filesPageBody(listed, assets.sourceViews), 'the repository')));
  manifest.push({ url: FILES_URL, title: 'Source files', source: '', kind: 'index', lang: SITE_LANG });
  for (const [path, url] of assets.sourceViews) {
    writeFile(outDir, url, layout(shellFor(url, path, sourceViewBody(path), path)));
    manifest.push({ url, title: path, source: path, kind: 'source', lang: SITE_LANG });
  }
  for (const [path, url] of assets.files) {
    mkdirSync(dirname(join(outDir, url)), { recursive: true });
    copyFileSync(join(REPO_ROOT, path), join(outDir, url));
  }
  const assetDir = join(outDir, 'assets');
  mkdirSync(assetDir, { recursive: true });
  for (const f of readdirSync(join(DOCS_DIR, 'assets'))) copyFileSync(join(DOCS_DIR, 'assets', f), join(assetDir, f));
  copyFileSync(join(dirname(require.resolve('minisearch')), '../umd/index.js'), join(assetDir, 'minisearch.js'));
  writeFile(outDir, 'assets/search-index.js', searchIndex(pages));
  writeFile(outDir, 'assets/site.js', clientScript());
  const sidebars: Record<string, readonly string[]> = {};
  for (const [lang, nav] of navs) sidebars[lang] = nav.map((e) => e.url);
  const result: Manifest = { pages: manifest, sidebar: englishNav.map((e) => e.url), sidebars };
  writeFile(outDir, 'manifest.json', `${JSON.stringify(result, null, 2)}\n`);
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { outDir, pages: manifest, problems };
}
