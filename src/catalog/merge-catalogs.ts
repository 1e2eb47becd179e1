/**
 * How a user catalog changes the shipped one (docs/cache-models.md "Merge rules"). Pure.
 *
 * 1. A group that only the user catalog has is added as written.
 * 2. A group both have is merged: the user's `description` and `platform` replace the shipped
 *    ones when given; each user entry replaces the shipped entry of the same name (the whole
 *    entry, no field-by-field merge) in its position, and entries with new names are appended.
 * 3. `"replace": true` on a user group replaces the shipped group of that name entirely.
 * 4. `pins` (repo id → revision) are merged key by key, the later catalog winning, and are applied
 *    last (applyPins) to every Hub entry of that repo in every group.
 * Catalogs are layered in order: shipped ← project ← --catalog / MLCACHE_CATALOG.
 */
import { entryName, isHubEntry, type Catalog, type Group } from './catalog-schema.js';

function mergeGroup(base: Group, overlay: Group): Group {
  const entries = [...base.entries];
  for (const entry of overlay.entries) {
    const name = entryName(entry);
    const at = entries.findIndex((e) => entryName(e) === name);
    if (at === -1) entries.push(entry);
    else entries[at] = entry;
  }
  return {
    description: overlay.description ?? base.description,
    platform: overlay.platform ?? base.platform,
    entries,
  };
}

export function mergeCatalogs(base: Catalog, overlay: Catalog): Catalog {
  const groups: Record<string, Group> = { ...base.groups };
  for (const [name, group] of Object.entries(overlay.groups)) {
    const existing = groups[name];
    const { replace, ...rest } = group;
    groups[name] = existing === undefined || replace === true ? rest : mergeGroup(existing, rest);
  }
  const pins = base.pins === undefined && overlay.pins === undefined ? undefined : { ...base.pins, ...overlay.pins };
  const registry = overlay.registry ?? base.registry;
  return { version: 1, groups, ...(pins === undefined ? {} : { pins }), ...(registry === undefined ? {} : { registry }) };
}

/** Set the revision of every Hub entry whose repo id has a pin. */
export function applyPins(catalog: Catalog): Catalog {
  const pins = catalog.pins;
  if (pins === undefined || Object.keys(pins).length === 0) return catalog;
  const groups: Record<string, Group> = {};
  for (const [name, group] of Object.entries(catalog.groups)) {
    groups[name] = {
      ...group,
      entries: group.entries.map((entry) => {
        if (!isHubEntry(entry)) return entry;
        const pin = pins[entry.repo];
        return pin === undefined ? entry : { ...entry, revision: pin };
      }),
    };
  }
  return { ...catalog, groups };
}
