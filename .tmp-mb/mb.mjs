import { Packr, Unpackr } from 'msgpackr';
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, largeBigIntToFloat: false, variableMapSize: process.argv[2] === 'v' });
const u = new Unpackr({ useRecords: false, moreTypes: false, structuredClone: false, int64AsType: 'bigint', mapsAsObjects: true, copyBuffers: true });
const N = 1000000;
const big = Buffer.alloc(200 * N); const starts = []; const ends = []; let at = 0;
for (let i = 0; i < N; i++) { const v = { user: `u${i % 10_000}`, page: `/products/${(i * 7919) % 100_000}`, action: 'click', amount: (i % 1000) / 10, session: `s-${(i * 31).toString(36).padStart(10, '0')}`, n: i };
  const b = packr.pack(v); b.copy(big, at); starts.push(at); at += b.length; ends.push(at); }
console.log('avg bytes', at / N);
for (let r = 0; r < 3; r++) {
let t = performance.now(); let s = 0;
for (let i = 0; i < N; i++) s += u.unpack(big, { start: starts[i], end: ends[i] }).n;
console.log('start/end', (N / (performance.now() - t) / 1000).toFixed(2), 'M/s');
t = performance.now();
for (let i = 0; i < N; i++) s += u.unpack(big.subarray(starts[i], ends[i])).n;
console.log('subarray', (N / (performance.now() - t) / 1000).toFixed(2), 'M/s');
t = performance.now();
for (let i = 0; i < N; i += 1000) { const arr = u.unpackMultiple(big.subarray(starts[i], ends[i + 999])); s += arr.length; }
console.log('unpackMultiple x1000', (N / (performance.now() - t) / 1000).toFixed(2), 'M/s');
t = performance.now();
for (let i = 0; i < N; i++) s += JSON.stringify(i).length;
}
