/**
 * The HTTP endpoint Prometheus scrapes (`GET /metrics`), on 127.0.0.1 unless another host is
 * given: metrics describe the pipeline's data flow and should not be public by accident.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A listening metrics server. */
export interface MetricsServer {
  /** `http://host:port/metrics` (the bound port, also when 0 asked for a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `registry` on `host:port` (port 0 picks a free port); resolves once listening.
 *
 * @example
 * const server = await serveMetrics(metrics.registry, { port: 9464, host: '127.0.0.1' }); log.info({ url: server.url }, 'metrics');
 */
export function serveMetrics(registry: Registry, where: { readonly port: number; readonly host: string }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(e)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
