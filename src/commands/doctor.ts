/** `mlcache doctor`: one line per check, ok / warn / fail with the fix; fails only on `fail`. */
import type { Dispatcher } from 'undici';
import type { Settings } from '../config/settings.js';
import { doctorPassed, evaluateDoctor, gatherDoctorFacts, type DoctorCheck, type DoctorFacts } from '../maintenance/index.js';

export interface DoctorOptions {
  settings: Settings;
  token?: string | undefined;
  dispatcher?: Dispatcher | undefined;
  /** Endpoint / whoami timeout. @default 3000 */
  timeoutMs?: number | undefined;
  nodeVersion?: string | undefined;
}

export interface DoctorResult {
  ok: boolean;
  checks: DoctorCheck[];
  facts: DoctorFacts;
}

export async function doctor(options: DoctorOptions): Promise<DoctorResult> {
  const facts = await gatherDoctorFacts(options);
  const checks = evaluateDoctor(facts);
  return { ok: doctorPassed(checks), checks, facts };
}
