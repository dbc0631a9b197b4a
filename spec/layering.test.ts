/**
 * The architecture, enforced: which directory may import which, the portable core (no Node-only
 * APIs in engine/ and operators/), and time only through the clock module.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Import specifiers of a file (static, dynamic and re-exports). */
function imports(file: string): string[] {
  const src = readFileSync(join(root, file), 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) specs.push(m[1] as string);
  for (const m of src.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) specs.push(m[1] as string);
  for (const m of src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

/** The top-level directory (or root file) an import lands in, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec}`;
  const rel = relative(root, resolve(root, dirname(file), spec));
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel;
}

/** Code with comments and string contents blanked, so only real code is checked. */
function code(file: string): string {
  return readFileSync(join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

const rules: Record<string, (t: string, file: string) => boolean> = {
  engine: (t) => t === 'engine',
  // Temporal (pure JS, portable) is allowed for calendar windows only.
  operators: (t, file) => t === 'engine' || t === 'operators' || (t === 'pkg:@js-temporal/polyfill' && /calendar/.test(file)),
  api: (t) => t === 'engine' || t === 'operators' || t === 'api',
  // Connectors may use Node and client packages, but reach operators only through the public entry.
  connectors: (t) => t === 'engine' || t === 'connectors' || t === 'index.js' || t.startsWith('pkg:'),
  // The command line (Node-only) uses the public entry, connectors and packages; nothing imports it.
  cli: (t) => t === 'cli' || t === 'index.js' || t === 'connectors' || t.startsWith('pkg:'),
  testing: (t, file) => {
    if (file.endsWith('reference.ts')) return false;
    if (file.endsWith('arbitraries.ts')) return t === 'pkg:fast-check' || t === 'testing';
    return t === 'testing' || t === 'index.js' || t === 'pkg:fast-check';
  },
};

describe('layering', () => {
  for (const [dir, allowed] of Object.entries(rules)) {
    it(`${dir}/ imports only what the architecture allows`, () => {
      const bad: string[] = [];
      for (const f of files(dir)) {
        for (const spec of imports(f)) {
          // type-only imports of the reference model are fine for the arbitraries
          if (f.endsWith('arbitraries.ts') && spec === './reference.js') continue;
          if (!allowed(target(f, spec), f)) bad.push(`${f} imports ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('spec/, benchmarks/ and examples/ use only the public entry points', () => {
    const bad: string[] = [];
    for (const dir of ['spec', 'benchmarks', 'examples']) {
      for (const f of files(dir)) {
        for (const spec of imports(f)) {
          if (!spec.startsWith('.')) {
            if (spec.startsWith('tidemark/') && spec !== 'tidemark/testing' && spec !== 'tidemark/cli') bad.push(`${f} imports ${spec}`);
            continue;
          }
          const t = target(f, spec);
          // The Nexmark answer checks test the benchmark suite's own generator and queries.
          const nexmark = f.startsWith('spec/nexmark/') && relative(root, resolve(root, dirname(f), spec)).startsWith('benchmarks/nexmark/');
          if (t !== dir && !nexmark) bad.push(`${f} imports ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('portable core', () => {
  const core = [...files('engine'), ...files('operators')];

  it('engine/ and operators/ use no Node-only API', () => {
    const bad = core.filter((f) => imports(f).some((s) => s.startsWith('node:') || (!s.startsWith('.') && s !== '@js-temporal/polyfill')) || /(?<![.\w])(Buffer\s*[.(]|process\s*\.\s*[a-zA-Z]|require\s*\(|__dirname|__filename)/.test(code(f)));
    expect(bad).toEqual([]);
  });

  it('time enters only through the clock module', () => {
    const bad = core
      .filter((f) => !f.endsWith('engine/clock.ts'))
      .filter((f) => /\b(Date\.now|performance\.now|setTimeout|setInterval|setImmediate|new Date)\b/.test(code(f)));
    expect(bad).toEqual([]);
  });

  it('engine/ and operators/ generate no code (edge runtimes forbid it)', () => {
    const bad = core.filter((f) => /(?<![.\w])(eval\s*\(|(new\s+)?Function\s*\()/.test(code(f)));
    expect(bad).toEqual([]);
  });

  it('the checks see real code (a planted violation would be found)', () => {
    expect(target('engine/x.ts', '../operators/map.js')).toBe('operators');
    expect(rules['engine']?.('operators', 'engine/x.ts')).toBe(false);
    expect(imports('api/stream.ts')).toContain('../operators/map.js');
  });
});
