/**
 * The exchange transport between worker threads: one `MessagePort` per peer (direct channels the
 * coordinator created and handed out), packets posted with their columnar buffers transferred.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ExchangeTransport, Packet } from '../../engine/runtime/exchange.js';

/**
 * A transport over `ports`, where `ports[w]` reaches worker `w` (`undefined` for this worker).
 *
 * @example
 * const transport = portTransport(workerData.ports);
 */
export function portTransport(ports: readonly (MessagePort | undefined)[]): ExchangeTransport {
  return {
    send(to: number, packet: Packet, transfer: ArrayBuffer[]): void {
      const port = ports[to];
      if (port === undefined) throw new Error(`tidemark.runParallel: no channel to worker ${to}`);
      port.postMessage(packet, transfer);
    },
    // After the current task: records of many upstream calls (up to the pump's next yield) travel together.
    schedule(flush: () => void): void {
      setImmediate(flush);
    },
    receive(handler: (from: number, packet: Packet) => void): void {
      ports.forEach((port, from) => {
        port?.on('message', (packet: Packet) => handler(from, packet));
      });
    },
  };
}
