/**
 * Values a person typed (repo ids, revisions, patterns, flag values) are echoed in errors cut to a
 * readable length, so a 300-character argument gives a one-line message rather than a screenful.
 * The cut keeps the start (where a typo usually shows) and marks it with an ellipsis.
 */

/** @default 80 characters */
export const ECHO_MAX_CHARS = 80;

/** `text` itself when it is at most `max` characters, else its first `max - 1` characters and `…`. */
export function cutValue(text: string, max: number = ECHO_MAX_CHARS): string {
  const chars = Array.from(text); // code points: never split a surrogate pair
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
