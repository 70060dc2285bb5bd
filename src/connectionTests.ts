/**
 * The connection tests of runtime configurations, as the Runtime Configurations panel shows them. The server tests
 * the stored configuration, so a result describes the configuration as it was when the test ran: once the user edits
 * that configuration's form, the result is kept but marked stale. Kept rather than cleared, because a failed test's
 * message is often what the user is fixing in the form; stale, so it is not taken for the edited configuration's.
 */

export interface IConnectionTest {
  /** Running, or its outcome. */
  state: 'pending' | 'ok' | 'failed';
  message: string;
  /** The configuration's form changed after the test started. */
  stale: boolean;
}

interface IRecord {
  state: IConnectionTest['state'];
  message: string;
  /** The configuration's edit count when the test started. */
  edits: number;
}

/** Each configuration's last test, by configuration name, and the number of edits of its form. */
export class ConnectionTests {
  /** A test of `name` starts. */
  start(name: string): void {
    this._records.set(name, { state: 'pending', message: 'Testing…', edits: this._editsOf(name) });
  }

  /** The test of `name` ended; compared with the edits counted when it started, so an edit meanwhile makes it stale. */
  finish(name: string, ok: boolean, message: string): void {
    const record = this._records.get(name);
    this._records.set(name, {
      state: ok ? 'ok' : 'failed',
      message,
      edits: record?.edits ?? this._editsOf(name)
    });
  }

  /** The user changed the form of `name`. */
  edited(name: string): void {
    this._edits.set(name, this._editsOf(name) + 1);
  }

  /** `name` was deleted. */
  forget(name: string): void {
    this._records.delete(name);
    this._edits.delete(name);
  }

  /** The last test of `name`, if any. */
  get(name: string): IConnectionTest | undefined {
    const record = this._records.get(name);
    return record && { state: record.state, message: record.message, stale: record.edits !== this._editsOf(name) };
  }

  private _editsOf(name: string): number {
    return this._edits.get(name) ?? 0;
  }

  private readonly _records = new Map<string, IRecord>();
  private readonly _edits = new Map<string, number>();
}
