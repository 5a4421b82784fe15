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
 * in Node (no threaded build there) or when the page already overrides the value. `nav` and `isNode` are the
 * environment's (parameters for tests).
 */
export function showCoresForThreads(
  threads: number,
  nav: object | undefined = (globalThis as { navigator?: object }).navigator,
  isNode: boolean = typeof process !== 'undefined' && process.versions?.node != null,
): () => void {
  const none = () => {};
  const n = nav as { hardwareConcurrency?: unknown } | undefined;
  if (isNode || n == null || typeof n.hardwareConcurrency !== 'number') return none;
  if (Object.getOwnPropertyDescriptor(n, 'hardwareConcurrency')) return none;
  Object.defineProperty(n, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  return () => {
    delete n.hardwareConcurrency;
  };
}
