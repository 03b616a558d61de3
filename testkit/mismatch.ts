// A first line worth reading for a failed deep comparison. chai abbreviates both sides
// ("expected [ …(100) ] to deeply equal []"), which is all a grade table has room for; the diff
// vitest attaches holds the values. This reads the diff and says how many entries differ and shows
// the first few:
//   expected an empty list, got 100 entries: "object 0 read back 0x0", "object 1 ...", ... and 97 more
//   2 entries differ: expected 0, got 5; expected 13, got 12
const SHOWN = 3;
const MAX_ENTRY = 80;

// True when chai cut the values short, so the message alone does not show the difference.
export function isAbbreviated(message: string): boolean {
  return /…\(\d+\)|\[ Array\(\d+\) \]|\[Object\]|\[Array\]/.test(message);
}

const clip = (s: string): string => (s.length > MAX_ENTRY ? `${s.slice(0, MAX_ENTRY - 1)}…` : s);

// One diff line's value: indentation, a trailing comma and an object key's quotes stripped.
function entry(line: string): string {
  return clip(line.slice(1).trim().replace(/,$/, ''));
}

const isBracket = (v: string): boolean => /^(Array |Object )?[[\]{}]$|^(Array |Object )?(\[\]|\{\})$/.test(v) || /^"?[\w$]+"?: [[{]$/.test(v);

export function summariseDiff(diff: string): string | undefined {
  const lines = diff.split('\n').filter((l) => !/^[-+] (Expected|Received)\b/.test(l) && l.trim() !== '');
  const minus = lines.filter((l) => l.startsWith('-'));
  const plus = lines.filter((l) => l.startsWith('+'));
  if (minus.length === 0 && plus.length === 0) return undefined;
  const more = (n: number): string => (n > SHOWN ? ` ... and ${n - SHOWN} more` : '');
  const emptyExpected = minus.length === 1 && /^-\s*(Array |Object )?(\[\]|\{\})$/.test(minus[0] ?? '');
  if (emptyExpected) {
    const got = plus.map(entry).filter((v) => !isBracket(v));
    const kind = (minus[0] ?? '').includes('{}') ? 'an empty object' : 'an empty list';
    return `expected ${kind}, got ${got.length} entr${got.length === 1 ? 'y' : 'ies'}: ${got.slice(0, SHOWN).join(', ')}${more(got.length)}`;
  }
  // Pair each run of '-' lines with the run of '+' lines after it.
  const pairs: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const want: string[] = [];
    const got: string[] = [];
    while (i < lines.length && lines[i]?.startsWith('-') === true) want.push(entry(lines[i++] ?? ''));
    while (i < lines.length && lines[i]?.startsWith('+') === true) got.push(entry(lines[i++] ?? ''));
    if (want.length === 0 && got.length === 0) {
      i += 1;
      continue;
    }
    const n = Math.max(want.length, got.length);
    for (let k = 0; k < n; k += 1) {
      const w = want[k];
      const g = got[k];
      if ((w !== undefined && isBracket(w)) || (g !== undefined && isBracket(g))) continue;
      pairs.push(w === undefined ? `unexpected ${g}` : g === undefined ? `missing ${w}` : `expected ${w}, got ${g}`);
    }
  }
  if (pairs.length === 0) return undefined;
  return `${pairs.length} entr${pairs.length === 1 ? 'y differs' : 'ies differ'}: ${pairs.slice(0, SHOWN).join('; ')}${more(pairs.length)}`;
}
