/**
 * A B A B: after each side's warm-up, runs `rounds` rounds of ours then the peer, so both see the same
 * machine noise. Returns each side's measurements in order.
 */
export async function alternate<T>(rounds: number, ours: () => Promise<T>, peer: () => Promise<T>): Promise<{ ours: T[]; peer: T[] }> {
  const result = { ours: [] as T[], peer: [] as T[] };
  for (let round = 0; round < rounds; round++) {
    result.ours.push(await ours());
    result.peer.push(await peer());
  }
  return result;
}

export function log(scenario: string, message: string): void {
  console.log(`  [${scenario}] ${message}`);
}
