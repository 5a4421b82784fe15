/**
 * The thread count of tfjs-backend-wasm's threaded build (browsers, on cross-origin isolated pages).
 *
 * The build gives its pool min(asked, 8, cores / 2) threads, `cores` being `navigator.hardwareConcurrency` when
 * the module is instantiated, and `asked` the value of its `setThreadsCount` (default: cores / 2). It assumes two
 * hardware threads per core: a 2-core machine gets 1 thread whatever is asked, and a phone without SMT half its
 * cores. {@link showCoresForThreads} makes the module see 2 × threads cores while it is instantiated, so the pool
 * gets exactly `threads` (up to the build's 8 workers).
 */

/**
 * Shows the wasm module 2 × `threads` cores (an own property of `navigator` shadowing the real
 * `hardwareConcurrency`) until the returned function is called; call it once the backend is ready. Does nothing
 * in Node (no threaded build there) or when the page already overrides the value.
 */
export function showCoresForThreads(threads: number): () => void {
  const none = () => {};
  const isNode = typeof process !== 'undefined' && process.versions?.node != null;
  const nav = (globalThis as { navigator?: object }).navigator as
    { hardwareConcurrency?: unknown } | undefined;
  if (isNode || nav == null || typeof nav.hardwareConcurrency !== 'number') return none;
  if (Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency')) return none;
  Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  return () => {
    delete nav.hardwareConcurrency;
  };
}
