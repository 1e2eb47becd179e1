/**
 * A small terminal screen for tests: a writable TTY stream that applies what a VT100-style terminal
 * does with the bytes cli-progress and node:readline write (text, CR, LF, cursor up/down/left/right,
 * cursor column, erase in line, erase below, save/restore cursor), so a test reads the screen a
 * person would see at any moment — not the raw stream, where a stale frame and a redrawn one look
 * the same.
 */
import { Writable } from 'node:stream';

export interface Screen {
  stream: NodeJS.WritableStream;
  /** The visible lines, trailing blanks removed. */
  lines(): string[];
}

export function createScreen(columns = 120): Screen {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = () => {
    while (rows.length <= row) rows.push('');
    return rows[row]!;
  };
  const put = (ch: string) => {
    const l = line().padEnd(col, ' ');
    rows[row] = l.slice(0, col) + ch + l.slice(col + 1);
    col++;
  };
  const csi = (params: string, final: string) => {
    const n = params === '' ? 1 : Number(params.split(';')[0]);
    switch (final) {
      case 'A': row = Math.max(0, row - n); break;
      case 'B': row += n; break;
      case 'C': col += n; break;
      case 'D': col = Math.max(0, col - n); break;
      case 'G': col = Math.max(0, n - 1); break;
      case 'H': {
        const [r = '1', c = '1'] = params.split(';');
        row = Number(r) - 1;
        col = Number(c) - 1;
        break;
      }
      case 'K': {
        const mode = params === '' ? 0 : Number(params);
        const l = line();
        rows[row] = mode === 0 ? l.slice(0, col) : mode === 1 ? ' '.repeat(Math.min(col + 1, l.length)) + l.slice(col + 1) : '';
        break;
      }
      case 'J': {
        const mode = params === '' ? 0 : Number(params);
        if (mode === 0) {
          rows[row] = line().slice(0, col);
          rows.length = row + 1;
        } else rows.splice(0, rows.length, '');
        break;
      }
      default:
        break; // modes (?25l, ?7l …) change nothing a person reads
    }
  };
  const feed = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\u001b') {
        const next = text[i + 1];
        if (next === '[') {
          let j = i + 2;
          let params = '';
          while (j < text.length && /[0-9;?]/.test(text[j]!)) params += text[j++];
          csi(params.replace('?', ''), text[j] ?? '');
          i = j;
        } else if (next === '7') {
          saved = { row, col };
          i++;
        } else if (next === '8') {
          ({ row, col } = saved);
          i++;
        } else i++;
      } else if (ch === '\r') col = 0;
      else if (ch === '\n') {
        row++;
        col = 0;
        line();
      } else if (col < columns) put(ch);
    }
  };
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      feed(chunk.toString());
      cb();
    },
  });
  Object.assign(stream, { isTTY: true, columns, rows: 40 });
  return {
    stream,
    lines: () => {
      const out = rows.map((l) => l.trimEnd());
      while (out.length > 0 && out.at(-1) === '') out.pop();
      return out;
    },
  };
}
