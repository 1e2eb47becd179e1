/**
 * Node module loader hooks (node:module `register`) that let a worker thread run TypeScript source:
 * `.ts` files are transpiled with the project's TypeScript (types stripped, nothing checked — tsc
 * and eslint check them), and a relative `./x.js` import from a `.ts` file that has no `x.js`
 * beside it resolves to `./x.ts`, as tsc's NodeNext resolution does. Used only when src/ runs in
 * place under vitest (src/util/hash.ts, startHashWorker): vitest's own transform does not reach
 * worker threads, and Node 20 cannot load .ts. The built CLI never loads this file.
 *
 * Loading TypeScript costs seconds on a busy machine, and every worker thread has its own hooks, so
 * the output is kept in node_modules/.cache/mlcache-worker-ts/, named by a hash of the source:
 * TypeScript is imported only when a file changed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';

const CACHE = new URL('../node_modules/.cache/mlcache-worker-ts/', import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const cached = new URL(`${createHash('sha256').update(url).update('\0').update(source).digest('hex')}.mjs`, CACHE);
  try {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // Not transpiled yet.
  }
  const { default: ts } = await import('typescript');
  const { outputText } = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, sourceMap: false },
  });
  // Written aside and renamed, so a worker starting at the same time never reads half a file.
  await mkdir(CACHE, { recursive: true });
  const temp = new URL(`${cached.pathname.split('/').pop()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`, CACHE);
  await writeFile(temp, outputText);
  await rename(temp, cached);
  return { format: 'module', source: outputText, shortCircuit: true };
}
