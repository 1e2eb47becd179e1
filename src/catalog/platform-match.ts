/** Platform constraints (`{os: ['darwin'], arch: ['arm64']}`) against this machine. Pure. */
import type { Platform } from './catalog-schema.js';

export interface MachinePlatform {
  /** process.platform, e.g. 'linux', 'darwin', 'win32'. */
  os: string;
  /** process.arch, e.g. 'x64', 'arm64'. */
  arch: string;
}

export function describePlatform(constraint: Platform): string {
  const os = constraint.os?.join('|');
  const arch = constraint.arch?.join('|');
  const text = [os, arch].filter((s) => s !== undefined).join('-');
  return constraint.os?.length === 1 && constraint.os[0] === 'darwin' && constraint.arch?.length === 1 && constraint.arch[0] === 'arm64'
    ? `${text} (Apple Silicon)`
    : text;
}

/** Undefined when `constraint` allows this machine, else a one-line reason. */
export function platformMismatch(constraint: Platform | undefined, machine: MachinePlatform): string | undefined {
  if (constraint === undefined) return undefined;
  const osOk = constraint.os === undefined || constraint.os.includes(machine.os);
  const archOk = constraint.arch === undefined || constraint.arch.includes(machine.arch);
  if (osOk && archOk) return undefined;
  return `only for ${describePlatform(constraint)}; this machine is ${machine.os}-${machine.arch}`;
}
