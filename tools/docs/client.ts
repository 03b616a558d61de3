// The course site's only script (transpiled by tools/docs/site.ts, loaded by every page):
// search over the index built at build time, the sidebar toggle on small screens, and the
// "On this page" highlight. Highlighting of code is done at build time, not here.
export {};

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
  MiniSearch?: { loadJSON(json: string, options: { fields: string[]; storeFields: string[] }): SearchEngine };
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

function setUpSearch(): void {
  const input = document.getElementById('search-input') as HTMLInputElement | null;
  const box = document.getElementById('search-results');
  const payload = win.COURSE_SEARCH;
  if (input === null || box === null || payload === undefined || win.MiniSearch === undefined) return;
  const engine = win.MiniSearch.loadJSON(payload.index, {
    fields: [...payload.options.fields],
    storeFields: [...payload.options.storeFields],
  });
  let selected = -1;

  const links = (): HTMLAnchorElement[] => Array.from(box.querySelectorAll('a'));
  const select = (i: number): void => {
    const all = links();
    selected = Math.max(-1, Math.min(i, all.length - 1));
    all.forEach((a, j) => a.classList.toggle('selected', j === selected));
    all[selected]?.scrollIntoView({ block: 'nearest' });
  };
  const close = (): void => {
    box.hidden = true;
    selected = -1;
  };
  const run = (): void => {
    const q = input.value.trim();
    if (q.length < 2) {
      close();
      return;
    }
    const hits = engine.search(q, { prefix: true, fuzzy: 0.15, boost: { heading: 3, page: 2 } }).slice(0, 12);
    if (hits.length === 0) {
      box.innerHTML = `<p class="search-empty">No results for “${escapeHtml(q)}”</p>`;
    } else {
      box.innerHTML = hits
        .map(
          (h) =>
            `<a href="${root}${escapeHtml(h.url ?? '')}"><span class="search-page">${escapeHtml(h.page ?? '')}</span>` +
            `<span class="search-heading">${mark(h.heading ?? '', h.terms)}</span>` +
            `<span class="search-excerpt">${mark(h.excerpt ?? '', h.terms)}</span></a>`,
        )
        .join('');
    }
    box.hidden = false;
    selected = -1;
  };

  input.addEventListener('input', run);
  input.addEventListener('focus', () => {
    if (input.value.trim().length >= 2) run();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      select(selected + 1);
      e.preventDefault();
    } else if (e.key === 'ArrowUp') {
      select(selected - 1);
      e.preventDefault();
    } else if (e.key === 'Enter') {
      const target = links()[selected === -1 ? 0 : selected];
      if (target !== undefined) target.click();
    } else if (e.key === 'Escape') {
      close();
      input.blur();
    }
  });
  document.addEventListener('click', (e) => {
    if (!(e.target instanceof Node) || !input.parentElement?.contains(e.target)) close();
  });
  document.addEventListener('keydown', (e) => {
    const typing = document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLTextAreaElement;
    if (e.key === '/' && !typing) {
      input.focus();
      e.preventDefault();
    }
  });
}

function setUpMenu(): void {
  const button = document.querySelector<HTMLButtonElement>('.menu-toggle');
  if (button === null) return;
  button.addEventListener('click', () => {
    const open = document.body.classList.toggle('menu-open');
    button.setAttribute('aria-expanded', String(open));
  });
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
setUpTocHighlight();
