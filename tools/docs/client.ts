// The course site's only script (transpiled by tools/docs/site.ts together with search-text.ts,
// loaded by every page): search over the index built at build time (a combobox: `/` focuses it,
// arrows move through the results, Enter opens one, Escape leaves), the sidebar toggle on small
// screens, the "On this page" highlight, and keyboard access to blocks that scroll sideways.
// Highlighting of code is done at build time, not here.
import { searchTokens } from './search-text.js';

interface SearchHit {
  readonly id: string;
  readonly score: number;
  readonly page?: string;
  readonly heading?: string;
  readonly url?: string;
  readonly excerpt?: string;
  readonly terms: readonly string[];
}

interface SearchEngine {
  search(query: string, options?: { prefix?: boolean; fuzzy?: number; boost?: Record<string, number> }): SearchHit[];
}

interface SearchPayload {
  readonly index: string;
  readonly options: { readonly fields: readonly string[]; readonly storeFields: readonly string[] };
}

interface CourseWindow {
  MiniSearch?: {
    loadJSON(json: string, options: { fields: string[]; storeFields: string[]; tokenize: (text: string) => string[] }): SearchEngine;
  };
  COURSE_SEARCH?: SearchPayload;
}

const win = window as unknown as CourseWindow;
const root = document.body.dataset.root ?? '';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function mark(text: string, terms: readonly string[]): string {
  let html = escapeHtml(text);
  for (const term of terms) {
    if (term.length < 2) continue;
    const re = new RegExp(`(${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`, 'gi');
    html = html.replace(re, '<mark>$1</mark>');
  }
  return html;
}

// The search engine and its index (about 300 kB) load on first use, not with every page.
function loadScripts(urls: readonly string[]): Promise<void> {
  return urls.reduce(
    (done, url) =>
      done.then(
        () =>
          new Promise<void>((resolve, reject) => {
            const script = document.createElement('script');
            script.src = url;
            script.onload = () => resolve();
            script.onerror = () => reject(new Error(`could not load ${url}`));
            document.head.appendChild(script);
          }),
      ),
    Promise.resolve(),
  );
}

function setUpSearch(): void {
  const input = document.getElementById('search-input') as HTMLInputElement | null;
  const box = document.getElementById('search-results');
  const status = document.getElementById('search-status');
  if (input === null || box === null) return;
  let engine: SearchEngine | undefined;
  let loading: Promise<void> | undefined;
  const load = (): Promise<void> => {
    loading ??= loadScripts((input.dataset.scripts ?? '').split(' ').filter((u) => u !== '')).then(() => {
      const payload = win.COURSE_SEARCH;
      if (payload === undefined || win.MiniSearch === undefined) throw new Error('the search index did not load');
      engine = win.MiniSearch.loadJSON(payload.index, {
        fields: [...payload.options.fields],
        storeFields: [...payload.options.storeFields],
        tokenize: searchTokens,
      });
    });
    return loading;
  };
  let selected = -1;

  const options = (): HTMLAnchorElement[] => Array.from(box.querySelectorAll<HTMLAnchorElement>('[role="option"]'));
  const announce = (text: string): void => {
    if (status !== null) status.textContent = text;
  };
  const select = (i: number): void => {
    const all = options();
    if (all.length === 0) return;
    selected = (i + all.length) % all.length;
    all.forEach((a, j) => a.setAttribute('aria-selected', String(j === selected)));
    const current = all[selected];
    if (current === undefined) return;
    input.setAttribute('aria-activedescendant', current.id);
    current.scrollIntoView({ block: 'nearest' });
  };
  const close = (): void => {
    box.hidden = true;
    selected = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const run = (): void => {
    const q = input.value.trim();
    if (Array.from(q).length < 2 && !/[^\x00-\x7f]/.test(q)) {
      close();
      announce('');
      return;
    }
    if (engine === undefined) {
      void load().then(run);
      return;
    }
    const hits = engine.search(q, { prefix: true, fuzzy: 0.15, boost: { heading: 3, page: 2 } }).slice(0, 12);
    if (hits.length === 0) {
      box.innerHTML = `<p class="search-empty">No results for “${escapeHtml(q)}”</p>`;
      announce(`No results for ${q}`);
    } else {
      box.innerHTML =
        `<div role="listbox" id="search-list" aria-label="Search results">` +
        hits
          .map(
            (h, i) =>
              `<a role="option" id="search-option-${i}" aria-selected="false" tabindex="-1" href="${root}${escapeHtml(h.url ?? '')}">` +
              `<span class="search-page">${escapeHtml(h.page ?? '')}</span>` +
              `<span class="search-heading">${mark(h.heading ?? '', h.terms)}</span>` +
              `<span class="search-excerpt">${mark(h.excerpt ?? '', h.terms)}</span></a>`,
          )
          .join('') +
        '</div>';
      announce(`${hits.length} result${hits.length === 1 ? '' : 's'}: arrow keys to choose, Enter to open`);
    }
    box.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    input.removeAttribute('aria-activedescendant');
    selected = -1;
  };

  input.addEventListener('input', run);
  input.addEventListener('focus', () => {
    void load();
    if (input.value.trim() !== '') run();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      if (box.hidden) run();
      select(selected + 1);
      e.preventDefault();
    } else if (e.key === 'ArrowUp') {
      select(selected - 1);
      e.preventDefault();
    } else if (e.key === 'Enter') {
      const target = options()[selected === -1 ? 0 : selected];
      if (target !== undefined) {
        e.preventDefault();
        target.click();
      }
    } else if (e.key === 'Escape') {
      // First Escape closes the results; the next (or the first, if none are open) leaves the box.
      if (!box.hidden) close();
      else input.blur();
      e.preventDefault();
    }
  });
  input.addEventListener('blur', () => {
    // Let a click on a result land first.
    setTimeout(() => {
      if (document.activeElement !== input) close();
    }, 150);
  });
  document.addEventListener('click', (e) => {
    if (!(e.target instanceof Node) || !input.parentElement?.contains(e.target)) close();
  });
  document.addEventListener('keydown', (e) => {
    const el = document.activeElement;
    const typing = el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || (el instanceof HTMLElement && el.isContentEditable);
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      input.focus();
      input.select();
      e.preventDefault();
    }
  });
}

function setUpMenu(): void {
  const button = document.querySelector<HTMLButtonElement>('.menu-toggle');
  const sidebar = document.getElementById('sidebar');
  if (button === null || sidebar === null) return;
  const set = (open: boolean): void => {
    document.body.classList.toggle('menu-open', open);
    button.setAttribute('aria-expanded', String(open));
  };
  button.addEventListener('click', () => {
    const open = !document.body.classList.contains('menu-open');
    set(open);
    if (open) sidebar.querySelector<HTMLAnchorElement>('a[aria-current="page"], a')?.focus();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('menu-open')) {
      set(false);
      button.focus();
    }
  });
}

// A block that scrolls sideways (a wide diagram, a table) must be reachable by keyboard, so its
// content can be scrolled with the arrow keys: such blocks get tabindex=0 and a visible scroll cue.
function setUpScrollables(): void {
  const mark = (el: Element): void => {
    if (!(el instanceof HTMLElement)) return;
    const scrolls = el.scrollWidth > el.clientWidth + 1;
    (el.tagName === 'CODE' ? el.parentElement : el)?.classList.toggle('scrolls', scrolls);
    if (scrolls) el.tabIndex = 0;
    else el.removeAttribute('tabindex');
  };
  const blocks = Array.from(document.querySelectorAll<HTMLElement>('pre.code > code, .table-wrap'));
  for (const el of blocks) mark(el);
  // Re-checked whenever a block changes size (a rotated phone, a resized window), before the next paint.
  if ('ResizeObserver' in window) {
    const observer = new ResizeObserver((entries) => {
      for (const e of entries) mark(e.target);
    });
    for (const el of blocks) observer.observe(el);
  }
}

// Marks the "On this page" entry of the section being read.
function setUpTocHighlight(): void {
  const links = Array.from(document.querySelectorAll<HTMLAnchorElement>('.toc a'));
  if (links.length === 0 || !('IntersectionObserver' in window)) return;
  const byId = new Map(links.map((a) => [decodeURIComponent(a.hash.slice(1)), a]));
  const headings = Array.from(byId.keys())
    .map((id) => document.getElementById(id))
    .filter((h): h is HTMLElement => h !== null);
  const visible = new Set<string>();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting) visible.add(e.target.id);
        else visible.delete(e.target.id);
      }
      const first = headings.find((h) => visible.has(h.id));
      if (first === undefined) return;
      for (const a of links) a.classList.toggle('active', a === byId.get(first.id));
    },
    { rootMargin: '-60px 0px -60% 0px' },
  );
  for (const h of headings) observer.observe(h);
}

setUpSearch();
setUpMenu();
setUpScrollables();
setUpTocHighlight();
