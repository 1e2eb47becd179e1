/** Pure parser of Linux /proc/meminfo (`MemTotal:  32592028 kB`; the kernel's "kB" is KiB). */
export interface MeminfoResult {
  totalBytes: number | undefined;
  availableBytes: number | undefined;
}

export function parseProcMeminfo(text: string): MeminfoResult {
  const read = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  };
  return { totalBytes: read('MemTotal'), availableBytes: read('MemAvailable') };
}

/** PRETTY_NAME from /etc/os-release (`PRETTY_NAME="Ubuntu 22.04.4 LTS"`). */
export function parseOsRelease(text: string): string | undefined {
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (m?.[1] === undefined) return undefined;
  return m[1].trim().replace(/^(["'])(.*)\1$/, '$2') || undefined;
}
