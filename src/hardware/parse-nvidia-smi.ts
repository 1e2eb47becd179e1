/**
 * Pure parsers of nvidia-smi output.
 *
 * The query form is `nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap
 * --format=csv,noheader,nounits`: one line per GPU in index order, fields separated by ", ",
 * memory in MiB, unsupported values written as `[N/A]` or `[Not Supported]`. `compute_cap` is only
 * known to drivers >= 510; older ones reject the whole query (see NVIDIA_QUERY_FIELDS_LEGACY).
 * The CUDA version is not a query field: it is on the banner line of plain `nvidia-smi`
 * (`| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2 |`).
 */
import type { NvidiaGpu } from './types.js';

export const NVIDIA_QUERY_FIELDS = ['name', 'memory.total', 'driver_version', 'compute_cap'] as const;
export const NVIDIA_QUERY_FIELDS_LEGACY = ['name', 'memory.total', 'driver_version'] as const;

export function nvidiaQueryArgs(fields: readonly string[] = NVIDIA_QUERY_FIELDS): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
}

function value(field: string | undefined): string | undefined {
  const v = field?.trim();
  if (v === undefined || v === '' || /^\[.*\]$/.test(v) || v === 'N/A') return undefined;
  return v;
}

const MIB = 1024 * 1024;

/**
 * GPUs from the query CSV. The name comes first and may in principle contain a comma, so the
 * trailing fields are taken from the right.
 */
export function parseNvidiaSmiQuery(csv: string, fields: readonly string[] = NVIDIA_QUERY_FIELDS): NvidiaGpu[] {
  const trailing = fields.length - 1;
  const gpus: NvidiaGpu[] = [];
  for (const line of csv.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const parts = line.split(',');
    if (parts.length < fields.length) continue;
    const name = parts.slice(0, parts.length - trailing).join(',').trim();
    const rest = parts.slice(parts.length - trailing);
    const memoryMiB = Number(value(rest[0]));
    gpus.push({
      vendor: 'nvidia',
      index: gpus.length,
      name,
      memoryBytes: Number.isFinite(memoryMiB) && memoryMiB > 0 ? memoryMiB * MIB : undefined,
      driverVersion: value(rest[1]),
      computeCapability: fields.includes('compute_cap') ? value(rest[2]) : undefined,
      cudaVersion: undefined,
    });
  }
  return gpus;
}

/** The `CUDA Version:` of plain nvidia-smi's banner (the newest CUDA the driver supports). */
export function parseNvidiaSmiCudaVersion(text: string): string | undefined {
  return /CUDA Version:\s*([0-9]+(?:\.[0-9]+)*)/.exec(text)?.[1];
}

/** Drivers older than 510 answer `Field "compute_cap" is not a valid field to query.` (exit 2). */
export function isUnknownQueryField(text: string): boolean {
  return /is not a valid field to query/i.test(text);
}

/**
 * The one-line reason nvidia-smi gives when it fails, e.g. "NVIDIA-SMI has failed because it
 * couldn't communicate with the NVIDIA driver. ..." (printed on stdout, exit status 9).
 */
export function nvidiaSmiFailureMessage(stdout: string, stderr: string): string {
  const line = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line ?? 'nvidia-smi failed without a message';
}
