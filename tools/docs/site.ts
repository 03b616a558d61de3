// The course site: one source (each phase's README.md, docs/*.md, the top-level README.md), rendered
// with markdown-it into a self-contained static folder. Nothing the browser loads leaves that folder.
//
//   buildSite() -> docs/dist/{index.html, <page>.html, repo/<path> (linked files), assets/, manifest.json}
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';

import MiniSearch from 'minisearch';
import ts from 'typescript';

import { PHASES, REPO_ROOT } from '../../lib/phases.js';
import { RepoFacts, checkCodeSpan, checkText, isRepoDir, repoPathExists, type CheckContext, type Problem } from './checks.js';
import {
  ADMONITION_NAMES,
  createMarkdown,
  fenceLanguage,
  highlightCode,
  inlineText,
  type Token,
} from './markdown.js';

const require = createRequire(import.meta.url);

export const DOCS_DIR = join(REPO_ROOT, 'docs');
export const DIST_DIR = join(DOCS_DIR, 'dist');
export const SITE_NAME = 'Mini-Ray';
export const SEARCH_OPTIONS = {
  fields: ['heading', 'page', 'text'],
  storeFields: ['page', 'heading', 'url', 'excerpt'],
} as const;

type Group = 'Start here' | 'Phases' | 'Reference';
const GROUPS: readonly Group[] = ['Start here', 'Phases', 'Reference'];

interface PageDef {
  readonly source: string; // repository path of the Markdown file
  readonly url: string; // site path of the HTML page
  readonly group: Group;
  readonly label?: string; // small label above the title in the sidebar ('Phase 1')
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
}

export interface ManifestPage {
  readonly url: string;
  readonly title: string;
  readonly source: string;
  readonly kind: 'page' | 'source';
}

export interface Manifest {
  readonly pages: readonly ManifestPage[];
  readonly sidebar: readonly string[]; // page urls in reading order
}

export interface BuildResult {
  readonly outDir: string;
  readonly pages: readonly ManifestPage[];
  readonly problems: readonly Problem[];
}

// ---------------------------------------------------------------------------------------------
// Which pages exist, in reading order.

const START_DOCS = ['index', 'getting-started', 'architecture'];
const REFERENCE_DOCS = ['debugging', 'glossary', 'faq', 'instructor-guide'];

function phaseDirs(): { dir: string; label: string }[] {
  const known = PHASES.map((p) => p.dir);
  const found = readdirSync(REPO_ROOT).filter((d) => /^phase\d+-/.test(d) && !known.includes(d));
  const all = [...known, ...found].filter((d) => existsSync(join(REPO_ROOT, d, 'README.md')));
  all.sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  return all.map((dir) => ({ dir, label: `Phase ${/\d+/.exec(dir)?.[0] ?? ''}` }));
}

export function pageDefs(): PageDef[] {
  const defs: PageDef[] = [];
  const docs = readdirSync(DOCS_DIR)
    .filter((f) => f.endsWith('.md'))
    .map((f) => f.slice(0, -3));
  for (const name of START_DOCS) {
    if (docs.includes(name)) defs.push({ source: `docs/${name}.md`, url: `${name}.html`, group: 'Start here' });
  }
  for (const { dir, label } of phaseDirs()) {
    defs.push({ source: `${dir}/README.md`, url: `${dir}.html`, group: 'Phases', label });
  }
  const rest = [...REFERENCE_DOCS.filter((d) => docs.includes(d)), ...docs.filter((d) => !START_DOCS.includes(d) && !REFERENCE_DOCS.includes(d)).sort()];
  for (const name of rest) defs.push({ source: `docs/${name}.md`, url: `${name}.html`, group: 'Reference' });
  if (existsSync(join(REPO_ROOT, 'README.md'))) defs.push({ source: 'README.md', url: 'readme.html', group: 'Reference', label: 'Repository' });
  return defs;
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking.

const md = createMarkdown();

function attr(token: Token, name: string): string | null {
  const v = token.attrGet(name);
  return v === null ? null : String(v);
}

function parsePage(def: PageDef): Page {
  const text = readFileSync(join(REPO_ROOT, def.source), 'utf8');
  const tokens = md.parse(text, {});
  const ids = new Set<string>();
  const toc: TocEntry[] = [];
  let title = '';
  tokens.forEach((t, i) => {
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
  return { ...def, tokens, title, ids, toc };
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
  const linked = ctx.pagesBySource.get(path);
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

// Walks a page's tokens: rewrites links and images to site paths, and runs the reference checks.
function processPage(ctx: LinkContext, facts: RepoFacts): void {
  const check: CheckContext = { facts, source: ctx.page.source, problems: ctx.problems };
  const admonitions = new RegExp(`^(${ADMONITION_NAMES.join('|')})\\b`);
  let lastLine = 1;
  for (const token of ctx.page.tokens) {
    // Inline tokens in table cells carry no line map: use the row's.
    const line = token.map === null ? lastLine : token.map[0] + 1;
    lastLine = line;
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

interface Shell {
  readonly url: string;
  readonly title: string;
  readonly body: string;
  readonly toc: readonly TocEntry[];
  readonly source: string;
  readonly pages: readonly Page[];
}

function sidebar(shell: Shell): string {
  const out: string[] = [];
  for (const group of GROUPS) {
    const items = shell.pages.filter((p) => p.group === group);
    if (items.length === 0) continue;
    out.push(`<p class="sidebar-group">${esc(group)}</p><ul>`);
    for (const p of items) {
      const current = p.url === shell.url ? ' aria-current="page" class="active"' : '';
      const label = p.label === undefined ? '' : `<span class="nav-label">${esc(p.label)}</span>`;
      out.push(`<li><a href="${relativeUrl(shell.url, p.url)}"${current}>${label}<span class="nav-title">${esc(navTitle(p))}</span></a></li>`);
    }
    out.push('</ul>');
  }
  return out.join('\n');
}

function navTitle(p: Page): string {
  if (p.group === 'Phases') return p.title.replace(/^Phase\s*\d+\s*[:·.—–-]\s*/i, '');
  if (p.url === 'index.html') return 'Home';
  if (p.url === 'readme.html') return 'README';
  return p.title;
}

function pager(shell: Shell): string {
  const i = shell.pages.findIndex((p) => p.url === shell.url);
  if (i === -1) return '';
  const prev = shell.pages[i - 1];
  const next = shell.pages[i + 1];
  const link = (p: Page | undefined, rel: 'prev' | 'next'): string =>
    p === undefined
      ? '<span></span>'
      : `<a class="pager-${rel}" rel="${rel}" href="${relativeUrl(shell.url, p.url)}"><span class="pager-dir">${rel === 'prev' ? '← Previous' : 'Next →'}</span><span class="pager-title">${esc(p.label === undefined ? navTitle(p) : `${p.label}: ${navTitle(p)}`)}</span></a>`;
  return `<nav class="pager" aria-label="Previous and next page">${link(prev, 'prev')}${link(next, 'next')}</nav>`;
}

function tocHtml(toc: readonly TocEntry[]): string {
  if (toc.length === 0) return '';
  const items = toc
    .map((t) => `<li class="toc-h${t.level}"><a href="#${encodeURIComponent(t.id)}">${esc(t.text)}</a></li>`)
    .join('\n');
  return `<aside class="toc" aria-label="On this page"><p class="toc-title">On this page</p><ul>${items}</ul></aside>`;
}

function layout(shell: Shell): string {
  const root = relativeUrl(shell.url, 'index.html').replace(/index\.html$/, '');
  const a = (p: string): string => `${root}assets/${p}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(shell.title)} · ${SITE_NAME}</title>
<link rel="icon" href="${a('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${a('hljs.css')}">
<link rel="stylesheet" href="${a('style.css')}">
</head>
<body data-root="${esc(root)}">
<header class="topbar">
  <button class="menu-toggle" type="button" aria-label="Show the table of contents" aria-expanded="false">☰</button>
  <a class="brand" href="${root}index.html"><span class="brand-mark" aria-hidden="true"></span>${SITE_NAME}<span class="brand-sub">build Plasma's object store</span></a>
  <div class="search" role="search">
    <input id="search-input" type="search" placeholder="Search the course" aria-label="Search the course" autocomplete="off" spellcheck="false">
    <kbd class="search-key">/</kbd>
    <div id="search-results" class="search-results" hidden></div>
  </div>
</header>
<div class="layout${shell.toc.length === 0 ? ' no-toc' : ''}">
<nav class="sidebar" aria-label="Course">
${sidebar(shell)}
</nav>
<main class="content">
<article class="markdown">
${shell.body}
</article>
${pager(shell)}
<footer class="page-source">This page is <code>${esc(shell.source)}</code> in the course repository.</footer>
</main>
${tocHtml(shell.toc)}
</div>
<script src="${a('minisearch.js')}"></script>
<script src="${a('search-index.js')}"></script>
<script src="${a('site.js')}"></script>
</body>
</html>
`;
}

function sourceViewBody(path: string): string {
  const text = readFileSync(join(REPO_ROOT, path), 'utf8');
  const ext = posix.extname(path).slice(1);
  const lang = fenceLanguage(ext === 'ts' ? 'typescript' : ext === 'md' ? 'markdown' : ext) ?? 'plaintext';
  const n = text.split('\n').length;
  return `<h1 id="source">${esc(path)}</h1>
<p class="source-meta">${n} lines · shown as it is in the repository</p>
<pre class="code source" data-lang="${lang === 'plaintext' ? '' : lang}"><code class="hljs language-${lang}">${highlightCode(text, lang)}</code></pre>`;
}

// ---------------------------------------------------------------------------------------------
// Search: one document per section (h1-h3), indexed at build time, loaded by the page as a script.

function searchIndex(pages: readonly Page[]): string {
  interface Doc {
    id: string;
    page: string;
    heading: string;
    url: string;
    text: string;
    excerpt: string;
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
        current = { id: `${page.url}#${id}`, page: page.title, heading, url: t.tag === 'h1' ? page.url : `${page.url}#${id}`, text: '', excerpt: '' };
        return;
      }
      if (current === undefined) return;
      const prev = page.tokens[i - 1];
      if (t.type === 'inline' && prev?.type !== 'heading_open') current.text += ` ${inlineText(t)}`;
      else if (t.type === 'fence' || t.type === 'code_block') current.text += ` ${t.content}`;
    });
    flush();
  }
  const search = new MiniSearch<Doc>({ fields: [...SEARCH_OPTIONS.fields], storeFields: [...SEARCH_OPTIONS.storeFields] });
  search.addAll(docs);
  const payload = { index: JSON.stringify(search), options: SEARCH_OPTIONS };
  return `window.COURSE_SEARCH = ${JSON.stringify(payload)};\n`;
}

// ---------------------------------------------------------------------------------------------
// The client script is TypeScript (type-checked with the rest), transpiled here, no bundler needed.

function clientScript(): string {
  const src = readFileSync(join(REPO_ROOT, 'tools/docs/client.ts'), 'utf8');
  const out = ts.transpileModule(src, {
    compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, removeComments: false },
  });
  return out.outputText.replace(/^export \{\};?\s*$/m, '');
}

function writeFile(outDir: string, rel: string, content: string): void {
  const file = join(outDir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

export function buildSite(outDir: string = DIST_DIR): BuildResult {
  const problems: Problem[] = [];
  const facts = new RepoFacts();
  const pages = pageDefs().map(parsePage);
  for (const phase of PHASES) {
    if (!existsSync(join(REPO_ROOT, phase.dir, 'README.md'))) {
      problems.push({ file: `${phase.dir}/README.md`, line: 1, message: `phase ${phase.id} has no lesson (README.md)` });
    }
  }
  const pagesBySource = new Map(pages.map((p) => [p.source, p]));
  const assets = new Assets();
  for (const page of pages) processPage({ page, pagesBySource, assets, problems }, facts);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const manifest: ManifestPage[] = [];
  for (const page of pages) {
    const body = md.renderer.render(page.tokens, md.options, {});
    writeFile(outDir, page.url, layout({ url: page.url, title: page.title, body, toc: page.toc, source: page.source, pages }));
    manifest.push({ url: page.url, title: page.title, source: page.source, kind: 'page' });
  }
  for (const [path, url] of assets.sourceViews) {
    writeFile(outDir, url, layout({ url, title: path, body: sourceViewBody(path), toc: [], source: path, pages }));
    manifest.push({ url, title: path, source: path, kind: 'source' });
  }
  for (const [path, url] of assets.files) {
    mkdirSync(dirname(join(outDir, url)), { recursive: true });
    copyFileSync(join(REPO_ROOT, path), join(outDir, url));
  }
  const assetDir = join(outDir, 'assets');
  mkdirSync(assetDir, { recursive: true });
  for (const f of readdirSync(join(DOCS_DIR, 'assets'))) copyFileSync(join(DOCS_DIR, 'assets', f), join(assetDir, f));
  copyFileSync(require.resolve('highlight.js/styles/github.css'), join(assetDir, 'hljs.css'));
  copyFileSync(join(dirname(require.resolve('minisearch')), '../umd/index.js'), join(assetDir, 'minisearch.js'));
  writeFile(outDir, 'assets/search-index.js', searchIndex(pages));
  writeFile(outDir, 'assets/site.js', clientScript());
  const result: Manifest = { pages: manifest, sidebar: pages.map((p) => p.url) };
  writeFile(outDir, 'manifest.json', `${JSON.stringify(result, null, 2)}\n`);
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { outDir, pages: manifest, problems };
}
