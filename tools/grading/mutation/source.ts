// A C++ source file seen the way the mutation operators need it: the code with comments, string
// and character literals and preprocessor lines blanked out (same length, same offsets), the
// simple statements, and the conditions of if-statements. Not a parser: it relies on the course's
// clang-format style (spaces around binary operators, none inside template brackets), which every
// reference file follows.

export interface Span {
  readonly start: number; // offset of the first character
  readonly end: number; // offset one past the last character
}

export interface Statement extends Span {
  readonly text: string; // the statement, from its first character to its ';' included
  readonly prev: string; // the last code character before it ('' at the start of the file)
}

export interface IfCondition {
  readonly open: number; // offset of the '(' after `if`
  readonly close: number; // offset of its matching ')'
  readonly consequent: string; // the first statement the if guards (or the block's first), masked
  readonly consequentText: string; // the same, as written
}

export interface CppSource {
  readonly text: string;
  // `text` with comments blanked to spaces, literals filled with '"' (so operators next to a
  // string are recognisable) and preprocessor lines blanked.
  readonly code: string;
  readonly statements: readonly Statement[];
  readonly ifs: readonly IfCondition[];
  lineOf(offset: number): number; // 1-based
}

function mask(text: string): string {
  const out = text.split('');
  const n = text.length;
  let i = 0;
  let lineStart = true;
  while (i < n) {
    const c = text[i];
    if (lineStart && c !== undefined && /\s/.test(c) && c !== '\n') {
      i += 1;
      continue;
    }
    if (lineStart && c === '#') {
      // A preprocessor line, with its continuations.
      while (i < n) {
        if (text[i] === '\n' && text[i - 1] !== '\\') break;
        if (text[i] !== '\n') out[i] = ' ';
        i += 1;
      }
      continue;
    }
    lineStart = false;
    if (c === '\n') {
      lineStart = true;
      i += 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') out[i++] = ' ';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (; i < stop; i += 1) if (text[i] !== '\n') out[i] = ' ';
    } else if (c === '"' || (c === "'" && !/[0-9A-Fa-f]/.test(text[i - 1] ?? ''))) {
      // A string or character literal (a ' between hex digits is a digit separator).
      const quote = c;
      out[i] = '"';
      i += 1;
      while (i < n && text[i] !== quote && text[i] !== '\n') {
        if (text[i] === '\\') {
          out[i] = '"';
          i += 1;
        }
        out[i] = '"';
        i += 1;
      }
      if (i < n) out[i] = '"';
      i += 1;
    } else {
      i += 1;
    }
  }
  return out.join('');
}

// The offset of the bracket that closes the one at `open`, in masked code; -1 when unbalanced.
export function matching(code: string, open: number): number {
  const o = code[open];
  const c = o === '(' ? ')' : o === '[' ? ']' : o === '{' ? '}' : undefined;
  if (c === undefined || o === undefined) return -1;
  let depth = 0;
  for (let i = open; i < code.length; i += 1) {
    if (code[i] === o) depth += 1;
    else if (code[i] === c) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function prevCodeChar(code: string, at: number): { char: string; index: number } {
  for (let i = at - 1; i >= 0; i -= 1) {
    const ch = code[i] ?? '';
    if (!/\s/.test(ch)) return { char: ch, index: i };
  }
  return { char: '', index: -1 };
}

function wordBefore(code: string, at: number): string {
  const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(code.slice(Math.max(0, at - 64), at));
  return m?.[1] ?? '';
}

const BLOCK_WORDS = new Set(['else', 'do', 'try', 'namespace', 'struct', 'class', 'enum', 'union', 'const', 'override', 'noexcept', 'final']);

// True when the '{' at `at` (paren depth 0) opens a block or a body rather than a braced initialiser.
function opensBlock(code: string, at: number): boolean {
  const prev = prevCodeChar(code, at);
  if (prev.char === ')') return true;
  if (prev.char === '' || prev.char === ';' || prev.char === '{' || prev.char === '}') return true;
  if (/[A-Za-z0-9_]/.test(prev.char)) {
    const word = wordBefore(code, prev.index + 1);
    if (word === 'return') return false;
    if (BLOCK_WORDS.has(word)) return true;
    // `struct Name {`, `namespace a::b {`: a space before the brace; `s{}` has none.
    return prev.index < at - 1;
  }
  return false;
}

function findStatements(code: string, text: string): Statement[] {
  const out: Statement[] = [];
  let paren = 0;
  let initDepth = 0; // inside braced initialisers
  let segStart = 0;
  for (let i = 0; i < code.length; i += 1) {
    const ch = code[i];
    if (ch === '(' || ch === '[') paren += 1;
    else if (ch === ')' || ch === ']') paren = Math.max(0, paren - 1);
    else if (paren > 0) continue;
    else if (ch === '{') {
      if (initDepth > 0 || !opensBlock(code, i)) initDepth += 1;
      else segStart = i + 1;
    } else if (ch === '}') {
      if (initDepth > 0) initDepth -= 1;
      else segStart = i + 1;
    } else if (ch === ';' && initDepth === 0) {
      let s = segStart;
      while (s < i && /\s/.test(code[s] ?? '')) s += 1;
      if (s < i) {
        out.push({ start: s, end: i + 1, text: text.slice(s, i + 1), prev: prevCodeChar(code, s).char });
      }
      segStart = i + 1;
    }
  }
  return out;
}

function findIfs(code: string, text: string, statements: readonly Statement[]): IfCondition[] {
  const out: IfCondition[] = [];
  const re = /\bif\s*\(/g;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    const open = m.index + m[0].length - 1;
    const close = matching(code, open);
    if (close < 0) continue;
    let k = close + 1;
    while (k < code.length && /\s/.test(code[k] ?? '')) k += 1;
    if (code[k] === '{') {
      k += 1;
      while (k < code.length && /\s/.test(code[k] ?? '')) k += 1;
    }
    const st = statements.find((s) => s.start <= k && k < s.end);
    const end = st !== undefined ? st.end : k + 80;
    out.push({ open, close, consequent: code.slice(k, end).trim(), consequentText: text.slice(k, end).trim() });
  }
  return out;
}

export function parseCpp(text: string): CppSource {
  const code = mask(text);
  const statements = findStatements(code, text);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') lineStarts.push(i + 1);
  return {
    text,
    code,
    statements,
    ifs: findIfs(code, text, statements),
    lineOf(offset) {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    },
  };
}
