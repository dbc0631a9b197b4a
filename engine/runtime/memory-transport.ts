/**
 * An in-memory network of parallel workers in one thread, for the simulation: packets are
 * structured-cloned (with their buffers transferred) exactly as between worker threads, kept FIFO
 * per (sender, receiver) channel, and delivered in an order chosen by a seeded random function —
 * so one seed gives one reproducible interleaving of the channels, and many seeds explore many.
 */
import type { ExchangeTransport, Packet } from './exchange.js';

/** The channels between `workers` in-thread workers. */
export class MemoryNetwork {
  private readonly queues: Packet[][];
  private readonly handlers: ((from: number, packet: Packet) => void)[] = [];
  /** Packets queued and not yet delivered. */
  private queued = 0;

  constructor(readonly workers: number, private readonly random: () => number) {
    this.queues = Array.from({ length: workers * workers }, () => []);
  }

  /** The transport of worker `worker`. */
  transport(worker: number): ExchangeTransport {
    return {
      send: (to, packet, transfer) => {
        (this.queues[worker * this.workers + to] as Packet[]).push(structuredClone(packet, { transfer }));
        this.queued++;
        this.schedule(0);
      },
      receive: (handler) => {
        this.handlers[worker] = handler;
      },
    };
  }

  /** Delivers one packet on a later microtask, sometimes deferring it a few times (slow channels). */
  private schedule(deferred: number): void {
    queueMicrotask(() => {
      if (deferred < 3 && this.random() < 0.5) {
        this.schedule(deferred + 1);
        return;
      }
      this.step();
    });
  }

  /** Delivers the head of a randomly chosen non-empty channel. */
  private step(): void {
    if (this.queued === 0) return;
    let pick = Math.floor(this.random() * this.queued);
    for (let c = 0; c < this.queues.length; c++) {
      const q = this.queues[c] as Packet[];
      if (pick >= q.length) {
        pick -= q.length;
        continue;
      }
      const packet = q.shift() as Packet;
      this.queued--;
      const from = Math.floor(c / this.workers);
      const to = c % this.workers;
      const handler = this.handlers[to];
      if (handler === undefined) throw new Error(`memory network: worker ${to} has no receiver`);
      handler(from, packet);
      return;
    }
  }
}
