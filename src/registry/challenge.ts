/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1: `challenge = auth-scheme [ 1*SP ( token68 /
 * #auth-param ) ]`, `auth-param = token BWS "=" BWS ( token / quoted-string )`). One header may
 * carry several challenges separated by commas, and a quoted value may itself contain commas and
 * escaped quotes — the cases a split on "," gets wrong (oras-go registry/remote/auth/challenge.go
 * parses the same way). Pure.
 */

export interface AuthChallenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Every challenge in one or more `WWW-Authenticate` header values, in order. */
export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  return values.flatMap(parseOne);
}

function parseOne(input: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const n = input.length;
  const skipSpace = () => {
    while (i < n && (input[i] === ' ' || input[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(input[i]!)) i++;
    return input.slice(start, i);
  };
  const readBare = (): string => {
    const start = i;
    while (i < n && input[i] !== ',' && input[i] !== ' ' && input[i] !== '\t') i++;
    return input.slice(start, i);
  };
  const readQuoted = (): string => {
    // input[i] === '"'
    i++;
    let out = '';
    while (i < n && input[i] !== '"') {
      if (input[i] === '\\' && i + 1 < n) i++;
      out += input[i];
      i++;
    }
    i++; // closing quote (or end of input for an unterminated string)
    return out;
  };

  let current: AuthChallenge | undefined;
  while (i < n) {
    skipSpace();
    if (input[i] === ',') {
      i++;
      continue;
    }
    const word = readToken();
    if (word.length === 0) {
      // Not a token: skip a stray quoted string whole, else one character (garbage cannot loop).
      if (input[i] === '"') readQuoted();
      else i++;
      continue;
    }
    skipSpace();
    if (input[i] === '=' && current !== undefined) {
      // A parameter of the current challenge, unless this is token68 padding (`abc==`).
      i++;
      skipSpace();
      // Unquoted values are tokens per RFC 9110, but registries write `realm=https://…` unquoted:
      // take everything up to the next comma or space.
      const value = input[i] === '"' ? readQuoted() : readBare();
      current.params[word.toLowerCase()] = value;
      continue;
    }
    if (input[i] === '=' && current === undefined) {
      // A parameter before any scheme: malformed; skip its value.
      i++;
      skipSpace();
      if (input[i] === '"') readQuoted();
      else readBare();
      continue;
    }
    // A new scheme.
    current = { scheme: word.toLowerCase(), params: {} };
    challenges.push(current);
    // token68 (e.g. `Negotiate abc==`): characters and "=" padding ending the challenge. Kept as
    // the `token68` pseudo-parameter; `realm="x"` or `realm=x` does not match (a value follows "=").
    const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/.exec(input.slice(i));
    if (t68) {
      current.params.token68 = t68[0];
      i += t68[0].length;
    }
  }
  return challenges;
}

/** The first Bearer challenge, else the first Basic one. */
export function pickChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
