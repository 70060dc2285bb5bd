import { ConnectionTests } from '../connectionTests';

describe('ConnectionTests', () => {
  it('shows a finished test as current until the form of that configuration changes', () => {
    const tests = new ConnectionTests();
    tests.start('team');
    expect(tests.get('team')).toEqual({ state: 'pending', message: 'Testing…', stale: false });
    tests.finish('team', false, 'bucket bucket does not exist');
    expect(tests.get('team')).toEqual({ state: 'failed', message: 'bucket bucket does not exist', stale: false });
    tests.edited('other');
    expect(tests.get('team')?.stale).toBe(false);
    tests.edited('team');
    expect(tests.get('team')).toEqual({ state: 'failed', message: 'bucket bucket does not exist', stale: true });
  });

  it('is stale when the form changed while the test ran, and current again after a new test', () => {
    const tests = new ConnectionTests();
    tests.start('team');
    tests.edited('team');
    tests.finish('team', true, 'Connected.');
    expect(tests.get('team')).toEqual({ state: 'ok', message: 'Connected.', stale: true });
    tests.start('team');
    tests.finish('team', true, 'Connected.');
    expect(tests.get('team')?.stale).toBe(false);
  });

  it('forgets a deleted configuration, so one created with its name starts without a result', () => {
    const tests = new ConnectionTests();
    tests.edited('team');
    tests.start('team');
    tests.finish('team', true, 'Connected.');
    tests.forget('team');
    expect(tests.get('team')).toBeUndefined();
    tests.start('team');
    tests.finish('team', true, 'Connected.');
    expect(tests.get('team')?.stale).toBe(false);
  });
});
