/**
 * The registry emulator's request faults that are not about blob bytes: injected statuses
 * (`RegistryFaults.status`) and answers lost after the work was done (`loseAnswer`). Each fault
 * counts down its `times`.
 */
import type http from 'node:http';
import { errorBody, type RegistryState } from './state.js';

/** A configured status fault for this request, answered here. */
export function statusFault(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const rules = state.faults.status ?? [];
  const rule = rules.find((r) => r.times > 0 && (r.method === undefined || r.method === req.method) && (r.pathIncludes === undefined || (req.url ?? '').includes(r.pathIncludes)));
  if (!rule) return false;
  rule.times--;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (rule.status === 429 || rule.status === 503) headers['retry-after'] = '0';
  res.writeHead(rule.status, headers);
  res.end(rule.status === 413 ? errorBody('SIZE_INVALID', 'blob exceeds the layer size limit') : errorBody('UNKNOWN', `injected ${rule.status}`));
  return true;
}

/** Whether the loseAnswer fault takes this request: the work is done, the answer never sent. */
export function loseAnswer(state: RegistryState, method: string, res: http.ServerResponse): boolean {
  const fault = state.faults.loseAnswer;
  if (!fault || fault.times <= 0 || fault.method !== method) return false;
  fault.times--;
  res.socket?.destroy();
  return true;
}
