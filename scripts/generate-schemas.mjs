// Writes the committed JSON Schemas from their zod schemas (run `npm run schemas`, which builds
// first). Tests compare each committed file with its generator, so they never drift.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);

/** One entry per generated schema: output file, built module, exported function returning the schema. */
const schemas = [
  { file: 'config/models.schema.json', module: 'dist/catalog/catalog-schema.js', generate: 'catalogJsonSchema' },
  { file: 'docs/schemas/cache-models-plan.schema.json', module: 'dist/commands/cache-models/plan-schema.js', generate: 'cacheModelsPlanJsonSchema' },
  { file: 'docs/schemas/mlcache-lock.schema.json', module: 'dist/lock/lockfile-schema.js', generate: 'lockfileJsonSchema' },
  { file: 'config/hardware_cache.schema.json', module: 'dist/config/hardware-cache.js', generate: 'hardwareCacheJsonSchema' },
];

for (const { file, module, generate } of schemas) {
  const mod = await import(new URL(module, root).href);
  const schema = mod[generate]();
  await writeFile(fileURLToPath(new URL(file, root)), `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}
