// Mutants derived mechanically from a reference C++ file: each is the file with one small, plausible
// change of the kind students make (a boundary off by one, a check or a wake-up forgotten, a lock
// not taken, a weaker memory order). Each has an id that depends only on what it changes, so it
// stays the same while unrelated parts of the reference change (EQUIVALENT.md and the selection
// refer to mutants by id).
import { createHash } from 'node:crypto';

import { matching, parseCpp, type CppSource } from './source.js';

export const OPERATORS = {
  relational: 'a comparison flipped at its boundary (< and <=, > and >=) or inverted (== and !=)',
  logical: '&& and || swapped',
  'condition-dropped': 'one operand of an && or || chain dropped (a check or a case forgotten)',
  arithmetic: '+ and - swapped (also += and -=)',
  constant: 'an integer constant off by one',
  'call-removed': 'a call statement removed (an unlock, a wake-up, a check, a bookkeeping call)',
  'store-removed': 'an assignment to shared or member state removed',
  'lock-removed': 'a lock guard (or locking macro) removed: the code runs unlocked',
  'branch-negated': "an if's condition negated",
  'check-removed': 'an if that throws (a validation or a bounds check) never taken',
  'memory-order': 'an atomic access weakened to std::memory_order_relaxed',
  'flag-removed': 'one flag dropped from an A | B | C combination',
  'min-max': 'std::min and std::max swapped',
  'bool-return': 'return true and return false swapped',
} as const;

export type OperatorName = keyof typeof OPERATORS;

export interface Mutant {
  readonly id: string; // 'm' + 8 hex digits: stable while the changed lines stay the same
  readonly file: string; // the student path it mutates, e.g. 'phase1-shm/src/shm_store.cc'
  readonly operator: OperatorName;
  readonly line: number; // first changed line (1-based) in the reference
  readonly description: string; // what changed, e.g. "'<' -> '<='"
  readonly content: string; // the whole mutated file
  readonly patch: string; // unified diff against the reference (applies with git apply)
}

interface Edit {
  readonly operator: OperatorName;
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
  readonly description: string;
}

const KEYWORDS = new Set([
  'return', 'throw', 'break', 'continue', 'goto', 'if', 'for', 'while', 'do', 'switch', 'case', 'default',
  'else', 'using', 'namespace', 'typedef', 'static_assert', 'template', 'struct', 'class', 'enum', 'union',
  'friend', 'public', 'private', 'protected', 'static', 'const', 'constexpr', 'inline', 'extern', 'virtual',
  'explicit', 'typename', 'auto', 'unsigned', 'signed', 'int', 'long', 'short', 'char', 'bool', 'float',
  'double', 'void', 'delete', 'new', 'try', 'catch',
]);

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
const clip = (s: string, n = 70): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// A declaration `Type name = ...;`, `Type name(args);`, `Type* name;`: two names side by side.
function isDeclaration(t: string): boolean {
  return /^(?:const\s+)?[A-Za-z_][\w:]*(?:<[^;]*?>)?[*&]*\s+[*&]*[A-Za-z_]\w*\s*(?:[=({[;]|$)/.test(t);
}

function firstWord(t: string): string {
  return /^[A-Za-z_]\w*/.exec(t)?.[0] ?? '';
}

// ---- operators --------------------------------------------------------------------------------

const RELATIONAL: Record<string, readonly string[]> = {
  '<': ['<='],
  '<=': ['<'],
  '>': ['>='],
  '>=': ['>'],
  '==': ['!='],
  '!=': ['=='],
};

function relational(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /(?<=\s)(<=|>=|==|!=|<|>)(?=\s)/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const op = m[1] ?? '';
    const start = m.index;
    for (const to of RELATIONAL[op] ?? []) {
      out.push({ operator: 'relational', start, end: start + op.length, replacement: to, description: `'${op}' -> '${to}'` });
    }
  }
  return out;
}

function logical(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /(?<=\s)(&&|\|\|)(?=\s)/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const op = m[1] ?? '';
    const to = op === '&&' ? '||' : '&&';
    // Only in a chain of two: in a longer one the swap mixes && and || without parentheses, which
    // -Wparentheses (and so -Werror) refuses.
    const { start, end } = enclosing(src.code, m.index);
    if (operands(src.code, start, end, op)?.length !== 2) continue;
    out.push({ operator: 'logical', start: m.index, end: m.index + 2, replacement: to, description: `'${op}' -> '${to}'` });
  }
  return out;
}

// The extent of the expression an operator at `at` belongs to: up to the enclosing bracket, or the
// statement's '=' / start and its ';' / ','.
function enclosing(code: string, at: number): { start: number; end: number } {
  let depth = 0;
  let start = 0;
  for (let i = at - 1; i >= 0; i -= 1) {
    const ch = code[i];
    if (ch === ')' || ch === ']' || ch === '}') depth += 1;
    else if (ch === '(' || ch === '[' || ch === '{') {
      if (depth === 0) {
        start = i + 1;
        break;
      }
      depth -= 1;
    } else if (depth === 0 && (ch === ';' || ch === ',' || (ch === '=' && !/[=!<>]/.test(code[i - 1] ?? '') && code[i + 1] !== '='))) {
      start = i + 1;
      break;
    } else if (depth === 0 && ch === 'n' && /\breturn$/.test(code.slice(Math.max(0, i - 5), i + 1))) {
      start = i + 1;
      break;
    }
  }
  depth = 0;
  let end = code.length;
  for (let i = at; i < code.length; i += 1) {
    const ch = code[i];
    if (ch === '(' || ch === '[' || ch === '{') depth += 1;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) {
        end = i;
        break;
      }
      depth -= 1;
    } else if (depth === 0 && (ch === ';' || ch === ',')) {
      end = i;
      break;
    }
  }
  return { start, end };
}

// Splits code[start, end) at top-level occurrences of `op` (with white space on both sides) into
// trimmed operands; undefined when the level mixes && and || or has a ternary (dropping an operand
// would then change more than one check).
function operands(code: string, start: number, end: number, op: string): Array<{ start: number; end: number }> | undefined {
  const raw: Array<{ start: number; end: number }> = [];
  let depth = 0;
  let from = start;
  const other = op === '&&' ? '||' : '&&';
  const at = (i: number, o: string): boolean => code.startsWith(o, i) && /\s/.test(code[i - 1] ?? '') && /\s/.test(code[i + o.length] ?? '');
  for (let i = start; i < end; i += 1) {
    const ch = code[i];
    if (ch === '(' || ch === '[' || ch === '{') depth += 1;
    else if (ch === ')' || ch === ']' || ch === '}') depth -= 1;
    else if (depth === 0 && ch === '?') return undefined;
    else if (depth === 0 && at(i, other)) return undefined;
    else if (depth === 0 && at(i, op)) {
      raw.push({ start: from, end: i });
      from = i + op.length;
      i += op.length - 1;
    }
  }
  raw.push({ start: from, end });
  return raw.map((p) => {
    let s = p.start;
    let e = p.end;
    while (s < e && /\s/.test(code[s] ?? '')) s += 1;
    while (e > s && /\s/.test(code[e - 1] ?? '')) e -= 1;
    return { start: s, end: e };
  });
}

function conditionDropped(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const seen = new Set<string>();
  const re = /(?<=\s)(&&|\|\|)(?=\s)/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const op = m[1] ?? '';
    const { start, end } = enclosing(src.code, m.index);
    const key = `${start}:${end}:${op}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const parts = operands(src.code, start, end, op);
    if (parts === undefined || parts.length < 2) continue;
    parts.forEach((p, k) => {
      // The operand goes with the operator that joins it to its neighbour.
      const next = parts[k + 1];
      const prev = parts[k - 1];
      const s = next !== undefined ? p.start : (prev?.end ?? p.start);
      const e = next !== undefined ? next.start : p.end;
      out.push({
        operator: 'condition-dropped',
        start: s,
        end: e,
        replacement: '',
        description: `'${op}' operand dropped: ${clip(oneLine(src.text.slice(p.start, p.end)))}`,
      });
    });
  }
  return out;
}

// A + or - between operands that are not strings (std::string concatenation would not compile).
function arithmetic(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /(?<=\s)(\+=|-=|\+|-)(?=\s)/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const op = m[1] ?? '';
    const start = m.index;
    const { start: es, end: ee } = enclosing(src.code, start);
    const expr = src.code.slice(es, ee);
    if (/"|to_string|Hex\(\)|name_?\b|std::string/.test(expr)) continue;
    const to = op === '+' ? '-' : op === '-' ? '+' : op === '+=' ? '-=' : '+=';
    out.push({ operator: 'arithmetic', start, end: start + op.length, replacement: to, description: `'${op}' -> '${to}'` });
  }
  return out;
}

function constant(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /(?<![\w.])(0[xX][0-9A-Fa-f']+|\d[\d']*)([uUlL]*)(?![\w.])/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const digits = m[1] ?? '';
    const suffix = m[2] ?? '';
    if (/\[\s*$/.test(src.code.slice(Math.max(0, m.index - 8), m.index))) continue; // array sizes
    const hex = /^0[xX]/.test(digits);
    const octal = /^0[0-7']+$/.test(digits);
    const clean = digits.replace(/'/g, '');
    const value = octal ? BigInt(`0o${clean.slice(1)}`) : BigInt(clean);
    const fmt = (v: bigint): string => (hex ? `0x${v.toString(16)}` : octal ? `0${v.toString(8)}` : v.toString()) + suffix;
    const variants = value === 0n ? [1n] : [value + 1n, value - 1n];
    for (const v of variants) {
      out.push({
        operator: 'constant',
        start: m.index,
        end: m.index + m[0].length,
        replacement: fmt(v),
        description: `${m[0]} -> ${fmt(v)}`,
      });
    }
  }
  return out;
}

function statementEdits(src: CppSource): Edit[] {
  const out: Edit[] = [];
  for (const st of src.statements) {
    // A statement that is the whole body of a brace-less if/else/loop cannot go without changing
    // what the next statement belongs to.
    if (st.prev === ')' || /else$/.test(src.code.slice(0, st.start).trimEnd())) continue;
    let t = oneLine(src.code.slice(st.start, st.end));
    const label = /^(?:public|private|protected|case [^:]+|default)\s*:\s*/.exec(t);
    if (label !== null) t = t.slice(label[0].length);
    const word = firstWord(t);
    const guard = /^(?:[\w:]*(?:Guard|guard)|std::(?:lock_guard|unique_lock|scoped_lock)(?:<[^>]*>)?)\s+\w+\s*[({]/.test(t);
    if (guard) {
      out.push({ operator: 'lock-removed', start: st.start, end: st.end, replacement: '', description: `lock guard removed: ${clip(oneLine(st.text))}` });
      continue;
    }
    if (/^[A-Z][A-Z0-9_]*LOCK[A-Z0-9_]*\(\)\s*;$/.test(t)) {
      out.push({ operator: 'lock-removed', start: st.start, end: st.end, replacement: '', description: `${t.replace(/;$/, '')} removed` });
      continue;
    }
    if (KEYWORDS.has(word) || isDeclaration(t)) continue;
    const assign = /^[^=(]*?(?:[^=!<>+\-*/%&|^]=(?!=)|\+=|-=|\*=|\/=|\|=|&=|\+\+|--)/.test(t) && !/^[\w:.>-]+\s*\(/.test(t);
    const call = /^[*&]?[\w:.\->[\]]+(?:<[^;]*?>)?\s*\(.*\)\s*;$/.test(t);
    const atomicStore = call && /\.(?:store|exchange|fetch_add|fetch_sub|fetch_or|fetch_and)\(/.test(t);
    if (assign || atomicStore) {
      out.push({ operator: 'store-removed', start: st.start, end: st.end, replacement: '', description: `store removed: ${clip(oneLine(st.text))}` });
    } else if (call) {
      out.push({ operator: 'call-removed', start: st.start, end: st.end, replacement: '', description: `call removed: ${clip(oneLine(st.text))}` });
    }
  }
  return out;
}

const THROWS = /^(?:throw\b|(?:[\w:]+::)?(?:Corrupt|NotFound|ThrowErrno|Throw\w*|Fail\w*)\s*\()/;

function branches(src: CppSource): Edit[] {
  const out: Edit[] = [];
  for (const f of src.ifs) {
    const cond = src.text.slice(f.open + 1, f.close);
    const shown = clip(oneLine(cond), 60);
    out.push({
      operator: 'branch-negated',
      start: f.open + 1,
      end: f.close,
      replacement: `!(${cond})`,
      description: `if (${shown}) negated`,
    });
    if (THROWS.test(f.consequent)) {
      out.push({
        operator: 'check-removed',
        start: f.open + 1,
        end: f.close,
        replacement: `false && (${cond})`,
        description: `check never taken: if (${shown}) ${clip(oneLine(f.consequentText), 40)}`,
      });
    }
  }
  return out;
}

function memoryOrder(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const explicit = /std::memory_order_(release|acquire|acq_rel|seq_cst)\b/g;
  for (let m = explicit.exec(src.code); m !== null; m = explicit.exec(src.code)) {
    out.push({
      operator: 'memory-order',
      start: m.index,
      end: m.index + m[0].length,
      replacement: 'std::memory_order_relaxed',
      description: `${m[0]} -> std::memory_order_relaxed`,
    });
  }
  // Atomic member calls without an order are sequentially consistent: give them a relaxed one.
  const implicit = /\.(load|store|exchange|fetch_add|fetch_sub|fetch_or|fetch_and)\(/g;
  for (let m = implicit.exec(src.code); m !== null; m = implicit.exec(src.code)) {
    const open = m.index + m[0].length - 1;
    const close = matching(src.code, open);
    if (close < 0) continue;
    const args = src.code.slice(open + 1, close);
    if (args.includes('memory_order')) continue;
    let depth = 0;
    let commas = 0;
    for (const ch of args) {
      if ('([{<'.includes(ch)) depth += 1;
      else if (')]}>'.includes(ch)) depth -= 1;
      else if (ch === ',' && depth === 0) commas += 1;
    }
    const expected = m[1] === 'load' ? 0 : 1;
    if (commas !== 0 || (expected === 0 && args.trim() !== '') || (expected === 1 && args.trim() === '')) continue;
    const insert = args.trim() === '' ? 'std::memory_order_relaxed' : `${src.text.slice(open + 1, close)}, std::memory_order_relaxed`;
    out.push({
      operator: 'memory-order',
      start: open + 1,
      end: close,
      replacement: insert,
      description: `.${m[1]}() (seq_cst) -> memory_order_relaxed`,
    });
  }
  return out;
}

function flags(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /\b[A-Z][A-Z0-9_]+(?: \| [A-Z][A-Z0-9_]+)+\b/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const names = m[0].split(' | ');
    names.forEach((name, k) => {
      const kept = names.filter((_, j) => j !== k).join(' | ');
      out.push({ operator: 'flag-removed', start: m!.index, end: m!.index + m![0].length, replacement: kept, description: `${name} dropped from ${m![0]}` });
    });
  }
  return out;
}

function minMax(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /\bstd::(min|max)\b/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const to = m[1] === 'min' ? 'max' : 'min';
    out.push({ operator: 'min-max', start: m.index + 5, end: m.index + 5 + (m[1]?.length ?? 3), replacement: to, description: `std::${m[1]} -> std::${to}` });
  }
  return out;
}

function boolReturn(src: CppSource): Edit[] {
  const out: Edit[] = [];
  const re = /\breturn (true|false);/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const to = m[1] === 'true' ? 'false' : 'true';
    const start = m.index + 7;
    out.push({ operator: 'bool-return', start, end: start + (m[1]?.length ?? 4), replacement: to, description: `return ${m[1]} -> return ${to}` });
  }
  return out;
}

const GENERATORS: ReadonlyArray<(src: CppSource) => Edit[]> = [
  relational,
  logical,
  conditionDropped,
  arithmetic,
  constant,
  statementEdits,
  branches,
  memoryOrder,
  flags,
  minMax,
  boolReturn,
];

// ---- patches ----------------------------------------------------------------------------------

const CONTEXT = 3;

// The lines [first, last] (1-based) of `text` replaced by `replacement` lines, as a unified diff.
function unifiedDiff(path: string, oldLines: readonly string[], first: number, last: number, newMiddle: readonly string[]): string {
  const from = Math.max(1, first - CONTEXT);
  const to = Math.min(oldLines.length, last + CONTEXT);
  const before = oldLines.slice(from - 1, first - 1);
  const removed = oldLines.slice(first - 1, last);
  const after = oldLines.slice(last, to);
  const oldCount = before.length + removed.length + after.length;
  const newCount = before.length + newMiddle.length + after.length;
  const newStart = newCount === 0 ? from - 1 : from;
  return [
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -${from},${oldCount} +${newStart},${newCount} @@`,
    ...before.map((l) => ` ${l}`),
    ...removed.map((l) => `-${l}`),
    ...newMiddle.map((l) => `+${l}`),
    ...after.map((l) => ` ${l}`),
    '',
  ].join('\n');
}

function apply(path: string, src: CppSource, edit: Edit): { content: string; patch: string; line: number; before: string; after: string } {
  const { text } = src;
  const lineStart = text.lastIndexOf('\n', edit.start - 1) + 1;
  let lineEnd = text.indexOf('\n', Math.max(edit.end - 1, edit.start));
  if (lineEnd < 0) lineEnd = text.length;
  const first = src.lineOf(edit.start);
  const last = src.lineOf(Math.max(edit.start, edit.end - 1));
  const middle = text.slice(lineStart, edit.start) + edit.replacement + text.slice(edit.end, lineEnd);
  // A removed statement takes its line with it when nothing else was on it.
  const newMiddle = middle.trim() === '' ? [] : middle.split('\n');
  const content =
    newMiddle.length === 0
      ? text.slice(0, lineStart) + text.slice(Math.min(text.length, lineEnd + 1))
      : text.slice(0, lineStart) + middle + text.slice(lineEnd);
  const oldLines = text.split('\n');
  if (oldLines.at(-1) === '') oldLines.pop();
  return {
    content,
    patch: unifiedDiff(path, oldLines, first, last, newMiddle),
    line: first,
    before: oneLine(text.slice(lineStart, lineEnd)),
    after: oneLine(middle),
  };
}

// static_assert(...) ranges: the layout checks a mutant could only break at compile time.
function staticAsserts(src: CppSource): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const re = /\bstatic_assert\s*\(/g;
  for (let m = re.exec(src.code); m !== null; m = re.exec(src.code)) {
    const open = m.index + m[0].length - 1;
    out.push({ start: m.index, end: matching(src.code, open) + 1 });
  }
  return out;
}

// Every mutant of one reference file, in file order, with stable ids.
export function mutantsOf(path: string, text: string): Mutant[] {
  const src = parseCpp(text);
  const header = /\.(h|hh|hpp)$/.test(path);
  const asserts = staticAsserts(src);
  const edits = GENERATORS.flatMap((g) => g(src))
    .filter((e) => !asserts.some((r) => e.start < r.end && e.end > r.start))
    // In a header, statements are declarations: only constants and expressions are mutated.
    .filter((e) => !header || !['call-removed', 'store-removed', 'lock-removed'].includes(e.operator)).sort((a, b) => a.start - b.start || a.end - b.end || (a.operator < b.operator ? -1 : 1));
  const out: Mutant[] = [];
  const occurrences = new Map<string, number>();
  const seenContent = new Set<string>();
  for (const edit of edits) {
    if (text.slice(edit.start, edit.end) === edit.replacement) continue;
    const a = apply(path, src, edit);
    if (seenContent.has(a.content)) continue; // two operators making the same change
    seenContent.add(a.content);
    const base = `${path}\0${edit.operator}\0${a.before}\0${a.after}`;
    const k = occurrences.get(base) ?? 0;
    occurrences.set(base, k + 1);
    const id = `m${createHash('sha1').update(`${base}\0${k}`).digest('hex').slice(0, 8)}`;
    out.push({ id, file: path, operator: edit.operator, line: a.line, description: edit.description, content: a.content, patch: a.patch });
  }
  return out;
}

// A deterministic sample: the `max` mutants whose hash with `seed` is lowest. A mutant keeps its
// place in the sample of a seed whatever other mutants come and go.
export function selectMutants<M extends { readonly id: string }>(mutants: readonly M[], seed: number, max: number | undefined): M[] {
  const rank = (m: M): string => createHash('sha1').update(`${seed}\0${m.id}`).digest('hex');
  const ranked = [...mutants].sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
  return max === undefined ? ranked : ranked.slice(0, max);
}
