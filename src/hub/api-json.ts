/**
 * The Hub's JSON answers: the response schemas, loaded on first use, parsing against them, and the
 * PROTOCOL error for an answer that is not what the Hub API sends.
 */
import type { z } from 'zod';
import type * as ApiSchemasModule from './api-schemas.js';
import { MlcacheError } from '../errors.js';
import { redactUrl } from '../util/redact.js';
import type { HubResponse } from './hub-response.js';

export type ApiSchemas = typeof ApiSchemasModule;

/**
 * The response schemas (and zod with them, ~90 ms of start-up) load on the first JSON answer, not
 * with the client: resolving and downloading files never parses JSON.
 */
export function apiSchemas(): Promise<ApiSchemas> {
  return import('./api-schemas.js');
}

/** A PROTOCOL error about the answer from `url` (shown redacted in the details). */
export function protocolError(message: string, url: string, hint: string, cause?: unknown): MlcacheError {
  return new MlcacheError('PROTOCOL', message, {
    hint,
    cause,
    details: { url: redactUrl(url) },
  });
}

/** `response.body` parsed and validated with the schema `pick` chooses; PROTOCOL when it is not JSON or not that shape. */
export async function parseApiJson<T>(endpoint: string, response: HubResponse, pick: (schemas: ApiSchemas) => z.ZodType<T>, what: string): Promise<T> {
  const schemas = await apiSchemas();
  const schema = pick(schemas);
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch (error) {
    throw protocolError(`${endpoint} answered ${what} with something that is not JSON.`, response.url, 'Check the endpoint (--endpoint / HF_ENDPOINT): it must be a Hugging Face Hub or a mirror.', error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw protocolError(`${endpoint} answered ${what} with unexpected data (${schemas.formatIssues(parsed.error)}).`, response.url, 'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.', parsed.error);
  }
  return parsed.data;
}
