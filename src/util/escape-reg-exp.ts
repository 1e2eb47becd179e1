/**
 * Escape text for a literal match inside a RegExp source: every character with a meaning in a
 * pattern (`. * + ? ^ $ { } ( ) | [ ] \` and `/`, so the result is also safe inside a `/…/`
 * literal or a `u`-flag pattern) gets a backslash. The same set as MDN's `escapeRegExp` plus `/`.
 */
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

export function escapeRegExp(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}
