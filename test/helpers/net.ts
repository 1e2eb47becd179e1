import net from 'node:net';

/**
 * An http://127.0.0.1:<port> URL nothing listens on: a port the OS just handed out and that was
 * closed again, so connecting is refused at once (ECONNREFUSED), with no timeout to wait for.
 */
export async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
