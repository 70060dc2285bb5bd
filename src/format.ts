/**
 * Small text helpers shared by the panels and dialogs.
 */
import type { IRunRecord } from './api';

/** "4.2 s", "3 min 05 s", "1 h 02 min"; an em dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A run's or node's duration from its timestamps (seconds since the epoch), running ones up to now. */
export function durationOf(item: { started: number | null; finished: number | null; status?: string }): number | null {
  if (item.started === null || item.started === undefined) {
    return null;
  }
  // A submitted run goes on on its cluster after the submission (which set `finished`) is done.
  const end = item.status === 'submitted' ? null : item.finished;
  return (end ?? Date.now() / 1000) - item.started;
}

/** Local date and time of a timestamp in seconds. */
export function formatTime(seconds: number | null | undefined): string {
  if (!seconds) {
    return '—';
  }
  const date = new Date(seconds * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

/** Where a run went: its runtime configuration when it has one, else its processor. */
export function runtimeOf(run: Pick<IRunRecord, 'runtime' | 'runtime_config'>): string {
  return run.runtime_config ? `${run.runtime_config} (${run.runtime})` : run.runtime;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A run's status, with the remote system's own state for submitted runs ("submitted: RUNNING"). */
export function statusText(run: Pick<IRunRecord, 'status' | 'result'>): string {
  const remote = run.result?.remote_status;
  return run.status === 'submitted' && typeof remote === 'string' && remote ? `submitted: ${remote}` : run.status;
}

/** The string value of a result field, or null. */
export function resultString(run: Pick<IRunRecord, 'result'>, key: string): string | null {
  const value = run.result?.[key];
  return typeof value === 'string' && value ? value : typeof value === 'number' ? String(value) : null;
}

/** The last non-empty line of a message: where tracebacks and our runners put the error itself. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter(line => line.trim());
  return (lines[lines.length - 1] ?? '').trim();
}
