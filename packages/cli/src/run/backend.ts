/** Initialises the tfjs backend a run asks for and makes sure gradients are registered. */
export async function setupBackend(
  prefer: 'auto' | 'tensorflow' | 'native' | 'wasm' | 'cpu',
  threads?: number,
): Promise<{ name: string; reason: string }> {
  const { initBackend } = await import('@netaug/backend');
  const r = await initBackend({
    ...(prefer === 'auto' ? {} : { prefer }),
    ...(threads != null ? { threads } : {}),
  });
  const { ensureGradients } = await import('@netaug/trainer');
  await ensureGradients();
  return { name: r.name, reason: r.reason };
}
