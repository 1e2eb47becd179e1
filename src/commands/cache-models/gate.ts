/**
 * Between plan and execution: gated repos without a token are named with the page where access is
 * requested; an interactive run (not --yes) asks whether to go on without them, and stops when
 * told no. Non-interactive runs go on with the rest (and fail at the end).
 */
import { MlcacheError } from '../../errors.js';
import type { CacheModelsPlan } from './plan-schema.js';
import type { CacheModelsOptions } from './types.js';

export async function confirmGated(
  plan: CacheModelsPlan,
  options: Pick<CacheModelsOptions, 'onEvent' | 'interactive' | 'yes' | 'confirm'>,
): Promise<void> {
  const gated = plan.entries.filter((e) => e.gatedWithoutToken);
  for (const e of gated) {
    options.onEvent?.({
      type: 'warning',
      message: `${e.repo ?? e.name} is gated and no token was found: request access at ${e.accessUrl ?? ''} and set HF_TOKEN (or --token).`,
    });
  }
  if (gated.length > 0 && options.interactive === true && options.yes !== true && options.confirm) {
    const go = await options.confirm(`${gated.length} gated repo(s) cannot be fetched without a token. Continue with the rest?`);
    if (!go) {
      throw new MlcacheError('GATED_REPO', `Stopped before downloading: ${gated.map((e) => e.repo ?? e.name).join(', ')} need a token.`, {
        hint: `Request access at ${gated.map((e) => e.accessUrl).join(', ')}, then set HF_TOKEN (or pass --token) and run again.`,
      });
    }
  }
}
