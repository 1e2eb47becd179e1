/**
 * Where a JSON text first goes wrong, as line:column. V8's JSON.parse messages only sometimes
 * carry a position ("Unexpected token '}', … is not valid JSON" does not, and Node 20's never
 * do), so this small RFC 8259 scanner finds it itself. Only called after JSON.parse has failed;
 * shared by the catalog (models.json) and config/hardware_cache.json readers. Pure.
 */

export interface JsonErrorPosition {
  /** 0-based offset into the text. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

class Stop extends Error {
  constructor(readonly offset: number) {
    super('json error');
  }
}

/** Line and column of `offset`; only '\n' ends a line (a '\r' before it counts as a column). */
export function lineColumn(text: string, offset: number): JsonErrorPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** The position of the first syntax error, or undefined if the text is valid JSON. */
export function findJsonErrorPosition(text: string): JsonErrorPosition | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const expect = (char: string) => {
    if (text[i] !== char) throw new Stop(i);
    i++;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) throw new Stop(i);
      i++;
    }
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= text.length) throw new Stop(i);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i);
      if (c === 0x5c) {
        const next = text[i + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else throw new Stop(i + 1);
        continue;
      }
      i++;
    }
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) throw new Stop(i);
    i += match[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    return number();
  };
  try {
    // A UTF-8 BOM is not JSON, but editors write one; readers strip it before parsing.
    value();
    ws();
    if (i < text.length) throw new Stop(i);
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return lineColumn(text, error.offset);
    throw error;
  }
}
