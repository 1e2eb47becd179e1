/**
 * Start a Hub emulator for a test and close it automatically.
 *
 * - `startEmulator(options)` inside a test (`it`): cleanup is registered with vitest's
 *   `onTestFinished`, so the servers close when that test ends, even if it fails.
 * - `useEmulator(options)` at describe/file level: starts one emulator in `beforeAll`, closes it in
 *   `afterAll`, and returns a getter (`const hub = useEmulator(...); hub().url`). Use it when many
 *   tests share fixtures; reset state with `hub().resetStats()` / `hub().setFaults({})`.
 */
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { createHubEmulator, type HubEmulator, type HubEmulatorOptions } from '../../src/emulator/index.js';

export { DEFAULT_TOKEN as EMULATOR_TOKEN } from '../../src/emulator/index.js';

export async function startEmulator(options: HubEmulatorOptions): Promise<HubEmulator> {
  const emulator = await createHubEmulator(options);
  onTestFinished(() => emulator.close());
  return emulator;
}

export function useEmulator(options: HubEmulatorOptions | (() => HubEmulatorOptions)): () => HubEmulator {
  let emulator: HubEmulator | undefined;
  beforeAll(async () => {
    emulator = await createHubEmulator(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('useEmulator(): the emulator is only available inside tests (after beforeAll).');
    return emulator;
  };
}
