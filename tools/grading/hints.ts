// npm start's hints: which level to show (a question first, then a pointer to where the answer is;
// never the answer), and text wrapped rather than cut.
// Long text broken into lines of at most `width` characters, the later ones indented.
export function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const POINTER_AFTER_MS = 20 * 60_000;

export interface HintState {
  readonly item: string; // 'phase1 1.2'
  readonly passed: number; // the item's passing tests when the hint was first shown at this level
  readonly since: number; // when this item was first shown (ms)
  readonly runs: number; // runs of npm start on this item without a new test passing
}

// Which hints to show for `item` now, and the state to remember for the next run.
export function hintLevel(
  previous: HintState | undefined,
  key: string,
  passed: number,
  now: number,
  more: boolean,
): { level: 1 | 2; state: HintState } {
  const state: HintState =
    previous === undefined || previous.item !== key
      ? { item: key, passed, since: now, runs: 0 }
      : passed > previous.passed
        ? { item: key, passed, since: previous.since, runs: 0 }
        : { ...previous, runs: previous.runs + 1 };
  const level = more || state.runs >= 1 || now - state.since >= POINTER_AFTER_MS ? 2 : 1;
  return { level, state };
}

