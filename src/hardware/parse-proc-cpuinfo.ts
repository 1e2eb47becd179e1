/**
 * Pure parser of Linux /proc/cpuinfo. x86 lists `model name`, `physical id` and `core id` per
 * logical CPU, so physical cores are the distinct (physical id, core id) pairs. arm64 lists no
 * model name, only `CPU implementer`/`CPU part` (named here from the table lscpu uses) and no
 * core ids, so every logical CPU counts as a core.
 */
import type { CpuInfo } from './types.js';

/** A few common Arm server/SBC parts (util-linux lscpu-arm.c lists the full table). */
const ARM_PARTS: Record<string, string> = {
  '0x41:0xd08': 'ARM Cortex-A72',
  '0x41:0xd0b': 'ARM Cortex-A76',
  '0x41:0xd0c': 'ARM Neoverse-N1',
  '0x41:0xd40': 'ARM Neoverse-V1',
  '0x41:0xd49': 'ARM Neoverse-N2',
  '0x41:0xd4f': 'ARM Neoverse-V2',
  '0x41:0xd42': 'ARM Cortex-A78AE',
};

export function parseProcCpuinfo(text: string): CpuInfo {
  const blocks = text
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      return fields;
    })
    .filter((f) => f.has('processor'));
  const first = blocks[0];
  let model = first?.get('model name') ?? first?.get('Model') ?? undefined;
  if (model === undefined && first?.has('CPU implementer')) {
    const key = `${first.get('CPU implementer')}:${first.get('CPU part')}`.toLowerCase();
    model = ARM_PARTS[key];
  }
  const pairs = new Set<string>();
  for (const b of blocks) {
    if (b.has('core id')) pairs.add(`${b.get('physical id') ?? '0'}:${b.get('core id')}`);
  }
  return {
    model: model === '' ? undefined : model,
    cores: pairs.size > 0 ? pairs.size : blocks.length > 0 ? blocks.length : undefined,
    threads: blocks.length,
  };
}
