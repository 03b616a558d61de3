// The course site's Markdown dialect: markdown-it plus plugins from npm, configured once.
//
//   - headings get GitHub-compatible ids (markdown-it-anchor), so `#anchors` work on the forge and the site
//   - `::: hint|pitfall|checkpoint|plasma [title]` ... `:::` become styled asides (markdown-it-container)
//   - fenced code is highlighted at build time by highlight.js (no JavaScript needed in the browser),
//     one <span class="line"> per line, so long lines of code wrap with a hanging indent and source
//     views number their lines; `text` blocks (diagrams, terminal output) keep their columns and scroll
//   - runs of Chinese characters are marked <span lang="zh-Hans">, so screen readers switch voice
//     and the browser picks a CJK font (the page itself is lang="en")
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import cpp from 'highlight.js/lib/languages/cpp';
import diff from 'highlight.js/lib/languages/diff';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';
import type { MarkdownIt as Md, Token as MdToken } from 'markdown-it';
import anchor from 'markdown-it-anchor';
import container from 'markdown-it-container';

export type Token = MdToken;

hljs.registerLanguage('bash', bash);
hljs.registerLanguage('cpp', cpp);
hljs.registerLanguage('diff', diff);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('markdown', markdown);
hljs.registerLanguage('plaintext', plaintext);
hljs.registerLanguage('python', python);
hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('xml', xml);
hljs.registerLanguage('yaml', yaml);
hljs.registerAliases(['sh', 'shell', 'console', 'zsh'], { languageName: 'bash' });
hljs.registerAliases(['text', 'txt', 'ascii', 'plain'], { languageName: 'plaintext' });
hljs.registerAliases(['cc', 'c', 'h', 'hpp', 'c++'], { languageName: 'cpp' });
hljs.registerAliases(['svg', 'html'], { languageName: 'xml' });
hljs.registerAliases(['gyp'], { languageName: 'python' });

// The admonitions lesson writers may use, with the title shown when none is given.
export const ADMONITIONS = {
  hint: 'Hint',
  pitfall: 'Pitfall',
  checkpoint: 'Checkpoint',
  plasma: 'How Plasma does it',
} as const;
export type AdmonitionName = keyof typeof ADMONITIONS;
export const ADMONITION_NAMES = Object.keys(ADMONITIONS) as AdmonitionName[];

// The language a fence's info string names ('' for none), or undefined when highlight.js does not know it.
export function fenceLanguage(info: string): string | undefined {
  const lang = info.trim().split(/\s+/)[0] ?? '';
  if (lang === '') return 'plaintext';
  const def = hljs.getLanguage(lang);
  if (def === undefined) return undefined;
  // Resolve aliases to the canonical name, so the class names are predictable.
  for (const name of hljs.listLanguages()) {
    if (hljs.getLanguage(name) === def) return name;
  }
  return lang;
}

export function highlightCode(code: string, lang: string): string {
  const canonical = fenceLanguage(lang) ?? 'plaintext';
  return hljs.highlight(code, { language: canonical, ignoreIllegals: true }).value;
}

// Splits highlight.js output into lines of balanced HTML: a span open across a line break is closed
// at the end of the line and opened again on the next.
export function splitHighlightedLines(html: string): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let line = '';
  for (const part of html.split(/(<span[^>]*>|<\/span>|\n)/)) {
    if (part === '\n') {
      lines.push(line + '</span>'.repeat(open.length));
      line = open.join('');
    } else if (part.startsWith('<span')) {
      open.push(part);
      line += part;
    } else if (part === '</span>') {
      open.pop();
      line += part;
    } else {
      line += part;
    }
  }
  lines.push(line + '</span>'.repeat(open.length));
  return lines;
}

export interface CodeBlockOptions {
  readonly lang: string; // a canonical name from fenceLanguage()
  readonly numbered?: boolean; // line numbers and #L<n> anchors (source views)
  readonly extraClass?: string;
}

// A highlighted block: <pre class="code"> around one <span class="line"> per line. Code in a real
// language wraps its long lines (each continuation indented past the line's own indentation, set as
// --i in characters); plain text keeps its columns (diagrams) and scrolls instead.
export function renderCodeBlock(code: string, options: CodeBlockOptions): string {
  const { lang } = options;
  const body = code.endsWith('\n') ? code.slice(0, -1) : code;
  const lines = splitHighlightedLines(highlightCode(body, lang));
  const source = body.split('\n');
  const rendered = lines
    .map((html, i) => {
      const indent = /^[ \t]*/.exec(source[i] ?? '')?.[0].replace(/\t/g, '    ').length ?? 0;
      const style = indent > 0 && lang !== 'plaintext' ? ` style="--i:${Math.min(indent, 40)}"` : '';
      const id = options.numbered === true ? ` id="L${i + 1}"` : '';
      return `<span class="line"${id}${style}>${html}\n</span>`;
    })
    .join('');
  const classes = ['code', lang === 'plaintext' ? 'nowrap' : 'wrap', ...(options.numbered === true ? ['numbered'] : []), ...(options.extraClass === undefined ? [] : [options.extraClass])];
  const dataLang = lang === 'plaintext' ? '' : lang;
  return `<pre class="${classes.join(' ')}" data-lang="${dataLang}"><code class="hljs language-${lang}">${rendered}</code></pre>`;
}

// Han, kana and hangul: text that gets a lang attribute of its own and a CJK font.
export const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]+(?:[\s\d·/、，。：；（）]*[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]+)*/gu;
export const CJK_LANG = 'zh-Hans';

// GitHub's heading ids: lower case, punctuation dropped, each space a dash.
export function slugify(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

// The plain text of an inline token (text and code spans), as the anchor plugin sees it.
export function inlineText(token: Token | undefined): string {
  if (token === undefined) return '';
  return (token.children ?? [])
    .filter((t) => t.type === 'text' || t.type === 'code_inline')
    .map((t) => t.content)
    .join('')
    .trim();
}

// Wraps each run of CJK text in escaped HTML in <span lang="zh-Hans">.
export function markCjk(escaped: string): string {
  return escaped.replace(CJK_RUN, (run) => `<span lang="${CJK_LANG}">${run}</span>`);
}

export function createMarkdown(): Md {
  const md: Md = new MarkdownIt({
    html: true,
    linkify: false,
    typographer: false,
    highlight: (code: string, info: string): string => renderCodeBlock(code, { lang: fenceLanguage(info) ?? 'plaintext' }),
  });
  md.use(anchor, {
    level: [1, 2, 3, 4],
    slugify,
    tabIndex: false,
    permalink: anchor.permalink.linkInsideHeader({
      symbol: '#',
      placement: 'before',
      class: 'header-anchor',
      ariaHidden: true,
      // A mouse convenience (copy a link to the section); keyboard users have the table of contents.
      // Hidden from screen readers, so it must not take focus either.
      renderAttrs: () => ({ tabindex: '-1' }),
    }),
  });
  for (const name of ADMONITION_NAMES) {
    md.use(container, name, {
      validate: (params: string) => params.trim().split(/\s+/)[0] === name,
      render: (tokens: Token[], idx: number): string => {
        const token = tokens[idx];
        if (token === undefined || token.nesting !== 1) return '</aside>\n';
        const given = token.info.trim().slice(name.length).trim();
        const title = given === '' ? md.utils.escapeHtml(ADMONITIONS[name]) : md.renderInline(given);
        const label = given === '' ? '' : `<span class="admonition-kind">${md.utils.escapeHtml(ADMONITIONS[name])}</span>`;
        return `<aside class="admonition ${name}"><p class="admonition-title">${label}${title}</p>\n`;
      },
    });
  }
  // Tables scroll on narrow screens instead of breaking the layout.
  md.renderer.rules.table_open = () => '<div class="table-wrap"><table>\n';
  md.renderer.rules.table_close = () => '</table></div>\n';
  // Chinese text in prose (not in code) is marked with its language.
  // (A page written in Chinese says so on <html>; env.lang is the page's language.)
  md.renderer.rules.text = (tokens, idx, _options, env): string => {
    const html = md.utils.escapeHtml(tokens[idx]?.content ?? '');
    const lang = (env as { lang?: unknown } | undefined)?.lang;
    return typeof lang === 'string' && lang.startsWith('zh') ? html : markCjk(html);
  };
  return md;
}
