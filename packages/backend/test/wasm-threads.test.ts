/**
 * showCoresForThreads: what tfjs-backend-wasm's threaded build reads as its core count while it is instantiated
 * (its pool is min(asked, 8, cores / 2)), on a navigator-like object whose real value is a prototype getter, as
 * in browsers. The effect in a real browser (2 threads on 2 cores) is tested in tools/test/web.test.ts.
 */
import { showCoresForThreads } from '../src/wasm/threads';

class FakeNavigator {
  get hardwareConcurrency(): number {
    return 2;
  }
}

test('shows 2 × threads cores until restored; then the real value again', () => {
  const nav = new FakeNavigator();
  const restore = showCoresForThreads(2, nav, false);
  expect(nav.hardwareConcurrency).toBe(4);
  restore();
  expect(nav.hardwareConcurrency).toBe(2);
  expect(Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency')).toBeUndefined();
  // fewer threads than the real cores / 2 (16 / 2 here): shown exactly 2 × 1, so the pool gets exactly 1
  class SixteenCores {
    get hardwareConcurrency(): number {
      return 16;
    }
  }
  const big = new SixteenCores();
  const r2 = showCoresForThreads(1, big, false);
  expect(big.hardwareConcurrency).toBe(2);
  r2();
  expect(big.hardwareConcurrency).toBe(16);
});

test('leaves alone: Node, no navigator, a page that overrides the value itself', () => {
  const nav = new FakeNavigator();
  showCoresForThreads(4, nav, true)();
  expect(nav.hardwareConcurrency).toBe(2);
  expect(() => showCoresForThreads(4, undefined, false)()).not.toThrow();
  const own = Object.defineProperty(new FakeNavigator(), 'hardwareConcurrency', {
    value: 12,
    configurable: true,
  });
  const restore = showCoresForThreads(4, own, false);
  expect(own.hardwareConcurrency).toBe(12);
  restore();
  expect(own.hardwareConcurrency).toBe(12);
});
