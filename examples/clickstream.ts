/**
 * A seeded, out-of-order clickstream for the demo and the examples: users browse pages in
 * sessions; records arrive up to `disorderMs` late, and a few arrive much later than that.
 */
import { seededRandom } from 'tidemark/testing';

export interface Click {
  readonly user: string;
  readonly page: string;
  /** Event time: when the click happened (epoch ms). */
  readonly ts: number;
}


const PAGES = ['/home', '/search', '/product', '/cart', '/checkout'] as const;

/** Options of the generator. */
export interface ClickstreamOptions {
  readonly users: number;
  readonly sessionsPerUser: number;
  readonly start: number;
  readonly seed: number;
  /** Normal delivery delay bound (ms); the demo's watermark allows this much disorder. */
  readonly disorderMs: number;
  /** Fraction of clicks delivered far later than the bound (they end up late). */
  readonly straggle: number;
}

/** Generates the clicks in arrival order (not event-time order). */
export function clickstream(o: ClickstreamOptions): Click[] {
  const rnd = seededRandom(o.seed);
  const events: { click: Click; arrival: number }[] = [];
  for (let u = 0; u < o.users; u++) {
    const user = `user-${String(u).padStart(3, '0')}`;
    let t = o.start + Math.floor(rnd() * 7_200_000);
    for (let s = 0; s < o.sessionsPerUser; s++) {
      const clicks = 2 + Math.floor(rnd() * 6);
      for (let c = 0; c < clicks; c++) {
        const page = PAGES[Math.floor(rnd() * PAGES.length)] as string;
        const click = { user, page, ts: t };
        const straggler = rnd() < o.straggle;
        const delay = !straggler ? Math.floor(rnd() * o.disorderMs)
          : rnd() < 0.5 ? 60_000 + Math.floor(rnd() * 90_000) // a little late: often admitted by allowed lateness
            : 1_200_000 + Math.floor(rnd() * 2_400_000); // very late: too late for its windows
        events.push({ click, arrival: t + delay });
        t += 5_000 + Math.floor(rnd() * 90_000);
      }
      t += 1_800_000 + Math.floor(rnd() * 1_800_000); // a pause longer than the session gap
    }
  }
  events.sort((a, b) => a.arrival - b.arrival);
  return events.map((e) => e.click);
}
