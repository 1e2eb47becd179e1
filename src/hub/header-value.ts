/**
 * Kept so importers of `./header-value.js` keep compiling: the one copy is util/http-headers.ts,
 * where `headerValue` is `joinedHeaderValue` (all values joined with ", ").
 */
export { headerGetter, joinedHeaderValue as headerValue, type HeaderSource } from '../util/http-headers.js';
