// How the site's search splits text into terms, shared by the index (built in Node by site.ts) and
// the query (in the browser, bundled into site.js), so both sides always agree.
//
// Words in alphabetic scripts split at spaces and punctuation, as MiniSearch does by default.
// Chinese and Japanese are written without spaces, so a run of those characters becomes its
// overlapping pairs: 共享内存 -> 共享 享内 内存. A query for 共享内存, 共享 or 内存 then finds it.

const SPACE_OR_PUNCTUATION = /[\n\r\p{Z}\p{P}]+/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export function searchTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.split(SPACE_OR_PUNCTUATION)) {
    if (word === '') continue;
    let run = '';
    let runIsCjk = false;
    const flush = (): void => {
      if (run === '') return;
      if (!runIsCjk) tokens.push(run);
      else {
        const chars = Array.from(run);
        if (chars.length === 1) tokens.push(run);
        for (let i = 0; i + 1 < chars.length; i++) tokens.push(`${chars[i] ?? ''}${chars[i + 1] ?? ''}`);
      }
      run = '';
    };
    for (const ch of word) {
      const cjk = CJK_CHAR.test(ch);
      if (run !== '' && cjk !== runIsCjk) flush();
      runIsCjk = cjk;
      run += ch;
    }
    flush();
  }
  return tokens;
}
