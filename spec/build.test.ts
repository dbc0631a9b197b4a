/**
 * `npm run build` emits JavaScript and declarations that plain `node` (no tsx) can import as
 * 'tidemark' and 'tidemark/testing', and the built package runs a pipeline.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Inside node_modules so the built package finds its dependencies; unique per run.
const out = mkdtempSync(join(root, 'node_modules', '.tidemark-build-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run build', () => {
  it('emits JS + .d.ts that plain node imports and runs', () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/build.ts'), '--out', out], { cwd: root, stdio: 'pipe' });
    expect(existsSync(join(out, 'index.js'))).toBe(true);
    expect(existsSync(join(out, 'index.d.ts'))).toBe(true);
    expect(existsSync(join(out, 'testing/index.d.ts'))).toBe(true);
    const script = join(out, 'consumer.mjs');
    writeFileSync(script, `
      import { Pipeline, fromArray, boundedOutOfOrderness, tumbling, count, collect } from 'tidemark';
      import { harness } from 'tidemark/testing';
      const out = [];
      const p = new Pipeline();
      p.source(fromArray([{ k: 'a', ts: 1 }, { k: 'a', ts: 2 }, { k: 'b', ts: 3 }]), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(0) })
        .keyBy((r) => r.k).window(tumbling(10)).aggregate(count()).sink(collect(out));
      await p.run();
      const h = harness((input) => input.keyBy((r) => r.k).window(tumbling(10)).aggregate(count()));
      h.addElement({ k: 'x' }, 5); h.finish();
      console.log(JSON.stringify({ out: out.map((r) => [r.key, r.value]), h: h.takeOutput().length }));
    `);
    const printed = execFileSync(process.execPath, [script], { cwd: out, encoding: 'utf8' });
    expect(JSON.parse(printed)).toEqual({ out: [['a', 2], ['b', 1]], h: 1 });
  }, 120_000);
});
