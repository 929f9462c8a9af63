/**
 * Seeds the demo data through the public ingest API of a running Worker (the same code path as any
 * client), once: the last demo customer only appears in the last batch, so its existence means the
 * whole set is in.
 */
import { type DemoEvent, generateDemoEvents } from "./demo-data";

const DEMO_CUSTOMERS = 300;
const DEMO_SEED = 20_260_422;
const BATCH_LIMIT = 500;

export interface SeedResult {
  seeded: boolean;
  customers: number;
  events: number;
}

/**
 * Seeds `url` with demo customers unless they are already there.
 *
 * @param anchor the demo world's "now" (histories end before it); today's UTC midnight in npm start
 */
export async function seedDemoData(url: string, adminKey: string, anchor: number): Promise<SeedResult> {
  const lastCustomer = `demo-${String(DEMO_CUSTOMERS).padStart(4, "0")}`;
  const probe = await fetch(`${url}/v1/customers/${lastCustomer}`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  if (probe.status === 200) return { seeded: false, customers: DEMO_CUSTOMERS, events: 0 };
  if (probe.status !== 404) throw new Error(`seeding: unexpected ${probe.status} ${await probe.text()}`);

  const events = generateDemoEvents({ anchor, customers: DEMO_CUSTOMERS, seed: DEMO_SEED });
  for (const batch of batchesByCustomer(events)) {
    const response = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ events: batch }),
    });
    if (response.status !== 200) throw new Error(`seeding: ${response.status} ${await response.text()}`);
  }
  return { seeded: true, customers: DEMO_CUSTOMERS, events: events.length };
}

/** Batches of at most BATCH_LIMIT events that never split one customer's events. */
function* batchesByCustomer(events: readonly DemoEvent[]): Generator<DemoEvent[]> {
  let batch: DemoEvent[] = [];
  let index = 0;
  while (index < events.length) {
    const customerId = events[index]!.customer_id;
    let end = index;
    while (end < events.length && events[end]!.customer_id === customerId) end++;
    if (batch.length + (end - index) > BATCH_LIMIT && batch.length > 0) {
      yield batch;
      batch = [];
    }
    batch.push(...events.slice(index, end));
    index = end;
  }
  if (batch.length > 0) yield batch;
}
