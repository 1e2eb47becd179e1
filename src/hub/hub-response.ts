/** What one HTTP exchange with the Hub gave back, and which statuses are redirects. Pure. */

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One response: the URL asked, its status and headers, and its body as text ('' for HEAD and 3xx). */
export interface HubResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
