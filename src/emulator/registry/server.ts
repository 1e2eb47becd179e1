/**
 * The registry emulator's three servers — registry, token service, storage: three origins, so that
 * credential leaks across origins are really tested. Every request is recorded (without its
 * credentials) before it is handled; an unexpected failure answers 500 or cuts the connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRegistry } from './routes/registry.js';
import { handleStorage } from './routes/storage.js';
import { handleToken } from './routes/token.js';
import { sendError, type RegistryState } from './state.js';
import type { RecordedRegistryRequest, RegistryServerName } from './types.js';

type Handler = (state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

function record(state: RegistryState, server: RegistryServerName, req: http.IncomingMessage, res: http.ServerResponse): void {
  const authorization = req.headers.authorization;
  const entry: RecordedRegistryRequest = {
    server,
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    host: req.headers.host,
    hasAuthorization: authorization !== undefined,
    authScheme: authorization?.split(' ')[0]?.toLowerCase(),
    range: req.headers.range,
    contentRange: req.headers['content-range'],
    status: 0,
  };
  state.requests.push(entry);
  const done = () => {
    entry.status = res.statusCode;
  };
  res.once('finish', done);
  res.once('close', done);
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function wrap(state: RegistryState, server: RegistryServerName, handler: Handler) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    record(state, server, req, res);
    handler(state, req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'UNKNOWN', 'emulator error');
      else res.destroy();
    });
  };
}

/** Start the three servers and set the state's URLs; the result has `host:port` of the registry and closes them. */
export async function startServers(state: RegistryState): Promise<{ registry: string; close(): Promise<void> }> {
  const { host } = state;
  const registryServer = http.createServer(wrap(state, 'registry', handleRegistry));
  const tokenServer = http.createServer(wrap(state, 'token', handleToken));
  const storageServer = http.createServer(wrap(state, 'storage', handleStorage));
  const servers = [registryServer, tokenServer, storageServer];
  const [registryPort, tokenPort, storagePort] = await Promise.all(servers.map((s) => listen(s, host)));
  state.registryUrl = `http://${host}:${registryPort}`;
  state.tokenUrl = `http://${host}:${tokenPort}`;
  state.storageUrl = `http://${host}:${storagePort}`;
  return {
    registry: `${host}:${registryPort}`,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
