import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../relay/src/metrics.js';

async function sample(metrics: ReturnType<typeof createMetrics>, name: string, type: string): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((value) => value.labels.type === type)?.value;
}

describe('relay frame counters', () => {
  it('keep counting across scrapes, each frame once', async () => {
    const metrics = createMetrics({ queueDepth: () => 0 });
    metrics.frameIn('SEND');
    metrics.frameIn('SEND');
    metrics.frameOut('OK');
    expect(await sample(metrics, 'parley_frames_in_total', 'SEND')).toBe(2);
    await metrics.registry.metrics();
    metrics.frameIn('SEND');
    metrics.frameIn('ACK');
    const text = await metrics.registry.metrics();
    expect(text).toContain('parley_frames_in_total{type="SEND"} 3');
    expect(text).toContain('parley_frames_in_total{type="ACK"} 1');
    expect(text).toContain('parley_frames_out_total{type="OK"} 1');
  });
});
