/**
 * `status --registry`: for each Hub entry, whether the registry holds its artifact — one manifest
 * HEAD per entry, by the cached commit when there is one, else by the revision's tag — so a person
 * sees, before running cache-models, which entries the registry would serve.
 */
import type { SelectedEntry } from '../../catalog/index.js';
import type { Settings } from '../../config/settings.js';
import { createDispatcher } from '../../hub/index.js';
import { isMlcacheError } from '../../errors.js';
import type { StatusReport } from '../../maintenance/status-report.js';
import { runPool } from '../../util/run-pool.js';
import { tagForRevision } from '../push.js';
import { referenceFor, registryBase } from '../cache-models/registry-first.js';
import { formatReference, openRegistry, type RegistryAccess } from '../../runtime/registry-session.js';

/** HEADs in flight at once. */
const CONCURRENCY = 8;

export async function markRegistryAvailability(
  options: RegistryAccess & { settings: Settings; registry?: string | undefined; signal?: AbortSignal | undefined },
  report: StatusReport,
  selected: readonly SelectedEntry[],
): Promise<void> {
  const base = registryBase(options.registry, options.settings);
  if (!base) return;
  const byKey = new Map(selected.map((e) => [`${e.group}\u0000${e.name}`, e]));
  const targets = report.groups.flatMap((g) => g.entries).filter((e) => e.kind === 'hub' && e.skipped === undefined);
  const dispatcher = createDispatcher(options.settings.proxy, { connections: CONCURRENCY });
  const client = await openRegistry(options.settings, { registry: base.registry, repository: base.prefix || 'x' }, { ...options, dispatcher, signal: options.signal });
  try {
    await runPool(targets.length, CONCURRENCY, async (index) => {
      const entry = targets[index]!;
      const wanted = byKey.get(`${entry.group}\u0000${entry.name}`);
      if (wanted?.kind !== 'hub') return;
      const reference = referenceFor(base, wanted.repo, entry.commit ?? tagForRevision(wanted.revision));
      const shown = formatReference(reference);
      try {
        const head = await client.headManifest(reference.repository, reference.tag!);
        entry.registry = { reference: shown, available: head !== undefined };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        entry.registry = { reference: shown, error: isMlcacheError(error) ? error.message : String(error) };
      }
    }, () => options.signal?.aborted === true);
  } finally {
    await client.close();
    await (options.signal?.aborted ? dispatcher.destroy() : dispatcher.close());
  }
}
