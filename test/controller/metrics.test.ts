/** controller/metrics.ts: the per-object series (kseal_condition_info, kseal_opened_by_info). */
import { describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../controller/metrics.js';

const lines = async (m: ControllerMetrics, name: string): Promise<string[]> => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`));

describe('ControllerMetrics per-object series', () => {
  it('exports the condition and the opener of each object at a scrape', async () => {
    const m = new ControllerMetrics();
    m.setCondition('app', 'db', 'True', 'Unsealed');
    m.setOpenedBy('app', 'db', 'encryptedData', '0123456789abcdef');
    expect(await lines(m, 'kseal_condition_info')).toEqual(['kseal_condition_info{namespace="app",name="db",status="True",reason="Unsealed"} 1']);
    expect(await lines(m, 'kseal_opened_by_info')).toEqual(['kseal_opened_by_info{namespace="app",name="db",recipient="encryptedData",key_id="0123456789abcdef"} 1']);
  });

  it('replaces the previous condition of an object rather than adding a series', async () => {
    const m = new ControllerMetrics();
    m.setCondition('app', 'db', 'True', 'Unsealed');
    m.setCondition('app', 'db', 'False', 'DecryptFailed');
    expect(await lines(m, 'kseal_condition_info')).toEqual(['kseal_condition_info{namespace="app",name="db",status="False",reason="DecryptFailed"} 1']);
  });

  it('forgets the opener and the condition of an object separately', async () => {
    const m = new ControllerMetrics();
    m.setCondition('app', 'db', 'True', 'Unsealed');
    m.setOpenedBy('app', 'db', 'encryptedData', 'k1');
    m.forgetOpenedBy('app', 'db');
    expect(await lines(m, 'kseal_opened_by_info')).toEqual([]);
    expect(m.conditionKeys()).toEqual(['app/db']);
    m.forgetCondition('app', 'db');
    expect(await lines(m, 'kseal_condition_info')).toEqual([]);
    expect(m.conditionKeys()).toEqual([]);
  });

  it('drops a series forgotten between two scrapes', async () => {
    const m = new ControllerMetrics();
    m.setCondition('app', 'a', 'True', 'Unsealed');
    m.setCondition('app', 'b', 'True', 'Unsealed');
    expect(await lines(m, 'kseal_condition_info')).toHaveLength(2);
    m.forgetCondition('app', 'a');
    expect((await lines(m, 'kseal_condition_info')).map((l) => /name="([^"]*)"/.exec(l)?.[1])).toEqual(['b']);
  });
});
