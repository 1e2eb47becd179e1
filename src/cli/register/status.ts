import type { Command } from 'commander';
import type { StatusResult } from '../../commands/status/index.js';
import { addOptions, collect, refuseEmptyValues, registryOptions, settingsFrom } from '../context.js';
import type { CommandContext } from './index.js';
import { cacheLocationOptions, jsonOption, printResult } from './options.js';

interface StatusFlags {
  json?: boolean;
  allRepos?: boolean;
  group?: string[];
  model?: string[];
  cacheDir?: string;
  torchHome?: string;
  catalog?: string;
  registry?: string;
  registryToken?: string;
  insecureRegistry?: string[];
}

export function registerStatus(program: Command, context: CommandContext): void {
  const command = program
    .command('status')
    .description('Show what is cached, per catalog group and per repo, and what is missing (never uses the network).')
    .option('--group <name>', 'only this catalog group (repeatable; default: every group)', collect)
    .option('--model <repo[@rev]>', 'also this repo (repeatable)', collect)
    .option('--all-repos', 'list every cached repo, not only those of the catalog')
    .option('--registry <oci://host[/prefix]>', 'also ask this OCI registry which entries it holds (the only network use of status)');
  addOptions(command, [...cacheLocationOptions(), ...registryOptions(), jsonOption()]);
  refuseEmptyValues(command);
  command.action(async (flags: StatusFlags) => {
    const [{ status }, { formatBytes }] = await Promise.all([import('../../commands/status/index.js'), import('../../util/bytes.js')]);
    const settings = await settingsFrom(context.output, flags, { announceCache: true });
    const result = await status({
      settings,
      groups: flags.group,
      models: flags.model,
      catalogPath: flags.catalog,
      registry: flags.registry,
      registryToken: flags.registryToken,
      insecureRegistries: flags.insecureRegistry,
      signal: context.signal,
    });
    printResult(context.output, flags, result, () => humanStatus(result, flags, formatBytes));
  });
}

function humanStatus(result: StatusResult, flags: StatusFlags, formatBytes: (bytes: number) => string): string {
    const out: string[] = [];
    const progress = (p: { name: string; bytesDone: number; bytesTotal: number | undefined }) =>
      `    downloading ${p.name}: ${formatBytes(p.bytesDone)}${p.bytesTotal !== undefined ? ` of ${formatBytes(p.bytesTotal)} (${Math.floor((100 * p.bytesDone) / Math.max(1, p.bytesTotal))}%)` : ' so far'}`;
    for (const group of result.groups) {
      out.push(`${group.name}: ${group.entries.every((e) => e.skipped !== undefined) ? 'skipped' : group.complete ? 'complete' : 'INCOMPLETE'}`);
      for (const e of group.entries) {
        const state = e.skipped !== undefined ? `skipped (${e.skipped})` : e.ok ? 'ok' : 'missing';
        const rev = e.kind === 'hub' ? `@${e.revision ?? 'main'}${e.commit ? ` → ${e.commit.slice(0, 12)}` : ''}` : '';
        out.push(`  ${state.padEnd(8)} ${e.target}${rev}  ${e.files.length} files, ${formatBytes(e.sizeOnDisk)}`);
        if (e.skipped === undefined) for (const p of e.problems) out.push(`    ${p}`);
        if (e.registry) {
          const where = e.registry.error !== undefined ? `registry error: ${e.registry.error}` : e.registry.available ? 'in the registry' : 'not in the registry (cache-models would use the Hub)';
          out.push(`    ${e.registry.reference}: ${where}`);
        }
        for (const p of e.partials) out.push(progress(p));
      }
    }
    const others = result.repos.filter((r) => flags.allRepos === true || !r.inCatalog);
    if (flags.allRepos === true) {
      out.push('', 'Cached repos:');
      for (const r of others) {
        out.push(`  ${r.repo}  ${formatBytes(r.sizeOnDisk)} on disk${r.blobsSize > r.sizeOnDisk ? ` (+${formatBytes(r.blobsSize - r.sizeOnDisk)} unreferenced)` : ''}`);
        for (const v of r.revisions) {
          out.push(`    ${(v.refs.join(', ') || '(no ref)').padEnd(12)} → ${v.commit.slice(0, 12)}  ${v.files} files, ${formatBytes(v.size)}${v.brokenFiles > 0 ? `, ${v.brokenFiles} broken` : ''}`);
        }
        for (const p of r.partials) out.push(progress(p));
        for (const w of r.warnings) out.push(`    warning: ${w}`);
      }
    } else if (others.length > 0) {
      out.push('', `${others.length} other repo(s) cached (--all-repos to list them).`);
    }
    const t = result.totals;
    out.push(
      '',
      `HF cache    ${t.hubCache.path}: ${formatBytes(t.hubCache.bytes)} in ${t.hubCache.repos} repo(s)${t.hubCache.partialBytes > 0 ? `, ${formatBytes(t.hubCache.partialBytes)} partial` : ''}${result.cacheExists ? '' : ' (does not exist yet)'}`,
      `TORCH_HOME  ${t.torchHome.path}: ${formatBytes(t.torchHome.bytes)}, ${t.torchHome.artifactsPresent}/${t.torchHome.artifactsSelected} catalog artifacts in place`,
    );
    if (t.mlx) out.push(`MLX         ${t.mlx.path}: ${formatBytes(t.mlx.bytes)}`);
    return `${out.join('\n')}\n`;
}
