import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toCHeader } from './c-header';

/** A C compiler here, or null (CI installs g++, which brings gcc). */
function compiler(name: string): string | null {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? name : null;
}

describe('toCHeader', () => {
  it('renders an aligned byte array and its length that parse back to the bytes', () => {
    const bytes = Uint8Array.from({ length: 29 }, (_, i) => (i * 37) & 0xff);
    const h = toCHeader(bytes, 'model_data');
    expect(h).toContain('#ifndef MODEL_DATA_H_');
    expect(h).toContain('alignas(16) const unsigned char model_data[] = {');
    expect(h).toContain('const unsigned int model_data_len = 29;');
    const values = [...h.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1], 16));
    expect(values).toEqual(Array.from(bytes));
  });
  const compilers = [
    ['gcc', '-std=c11', 'main.c'],
    ['g++', '-std=c++11', 'main.cpp'],
  ] as const;
  it.each(compilers)('compiles with %s %s: the array is aligned and holds the bytes', (cc, std, file) => {
    if (!compiler(cc)) {
      if (process.env.CI) throw new Error(`${cc} is missing: CI installs g++ (and with it gcc)`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'netaug-cheader-'));
    try {
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 91 + 7) & 0xff);
      writeFileSync(join(dir, 'model_data.h'), toCHeader(bytes, 'model_data', { alignment: 64 }));
      // prints the length, the address modulo 64 and a checksum of the bytes
      writeFileSync(
        join(dir, file),
        `#include <stdio.h>
#include <stdint.h>
#include "model_data.h"
int main(void) {
  unsigned long sum = 0;
  for (unsigned int i = 0; i < model_data_len; i++) sum = sum * 31 + model_data[i];
  printf("%u %u %lu\\n", model_data_len, (unsigned int)((uintptr_t)model_data % 64), sum % 1000000007UL);
  return 0;
}
`,
      );
      const exe = join(dir, 'a.out');
      const c = spawnSync(cc, [std, '-Wall', '-Werror', '-pedantic', join(dir, file), '-o', exe], { encoding: 'utf8' });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
      let sum = 0n;
      for (const b of bytes) sum = (sum * 31n + BigInt(b)) % 2n ** 64n;
      const out = spawnSync(exe, { encoding: 'utf8' }).stdout.trim();
      expect(out).toBe(`300 0 ${sum % 1000000007n}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects names that are not C identifiers', () => {
    expect(() => toCHeader(new Uint8Array(1), '1model')).toThrow(/C identifier/);
  });
});
