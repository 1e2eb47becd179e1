/**
 * Pure parser of macOS `sysctl -n <keys...>`: one value per line, in the order asked. Every key
 * in SYSCTL_KEYS exists on macOS 10.13.4 and later on both Intel and Apple Silicon, so the
 * positions stay aligned. `sysctl <keys...>` without -n (`key: value` lines) is accepted too.
 */
export const SYSCTL_KEYS = [
  'machdep.cpu.brand_string',
  'hw.memsize',
  'hw.ncpu',
  'hw.physicalcpu',
  'hw.logicalcpu',
  'kern.osproductversion',
] as const;

export interface SysctlInfo {
  cpuBrand: string | undefined;
  memoryBytes: number | undefined;
  physicalCpus: number | undefined;
  logicalCpus: number | undefined;
  osProductVersion: string | undefined;
}

function int(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

export function parseSysctl(text: string, keys: readonly string[] = SYSCTL_KEYS): SysctlInfo {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const values = new Map<string, string>();
  const keyed = lines.every((l) => keys.some((k) => l.startsWith(`${k}:`)));
  if (keyed && lines.length > 0) {
    for (const line of lines) {
      const i = line.indexOf(':');
      values.set(line.slice(0, i), line.slice(i + 1).trim());
    }
  } else {
    keys.forEach((key, i) => {
      const line = lines[i];
      if (line !== undefined) values.set(key, line.trim());
    });
  }
  const logical = int(values.get('hw.logicalcpu')) ?? int(values.get('hw.ncpu'));
  return {
    cpuBrand: values.get('machdep.cpu.brand_string') || undefined,
    memoryBytes: int(values.get('hw.memsize')),
    physicalCpus: int(values.get('hw.physicalcpu')),
    logicalCpus: logical,
    osProductVersion: values.get('kern.osproductversion') || undefined,
  };
}
