/**
 * Which registries may be reached over plain HTTP: a loopback host (as Docker treats 127.0.0.0/8
 * as insecure by default), or one named by --insecure-registry / MLCACHE_INSECURE_REGISTRY. Pure.
 */
import { isIP } from 'node:net';

/** Loopback hosts (and `localhost`), which may be reached over plain HTTP without --insecure-registry. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** `host` of `host[:port]` (brackets of an IPv6 literal removed), lower case. */
function hostOf(registry: string): string {
  const r = registry.toLowerCase();
  if (r.startsWith('[')) return r.slice(1, r.indexOf(']'));
  const colon = r.lastIndexOf(':');
  return colon >= 0 ? r.slice(0, colon) : r;
}

/**
 * Whether to speak plain HTTP to `registry`: a loopback host, or one listed in `insecureHosts`
 * (`host` or `host:port`, from --insecure-registry / MLCACHE_INSECURE_REGISTRY). Docker treats
 * 127.0.0.0/8 as insecure by default the same way.
 */
export function defaultInsecure(registry: string, insecureHosts: readonly string[] = []): boolean {
  return isLoopbackRegistry(registry) || isListedInsecure(registry, insecureHosts);
}

/** Whether `registry` (`host` or `host:port`) is named in `insecureHosts` (an `http(s)://` prefix and trailing `/` ignored). */
export function isListedInsecure(registry: string, insecureHosts: readonly string[]): boolean {
  const r = registry.toLowerCase();
  return insecureHosts.some((h) => {
    const listed = h.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return listed === r || listed === hostOf(r);
  });
}
