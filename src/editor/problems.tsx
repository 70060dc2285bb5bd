/**
 * The problems list under the canvas: every issue the server's validation found, naming node and field.
 * Choosing one selects its node and focuses the field.
 */
import * as React from 'react';

import { IIssue } from '../api';

export interface IProblemsProps {
  issues: IIssue[];
  /** Validation is running (after an edit, debounced). */
  checking: boolean;
  /** Validation could not run (server unreachable...). */
  error: string | null;
  onChoose: (issue: IIssue) => void;
}

const SEVERITY = ['', 'Error', 'Warning', 'Information', 'Hint'];

function where(issue: IIssue): string {
  const data = issue.data ?? {};
  return [data.nodeName, data.propertyName].filter(Boolean).join(' · ');
}

export function ProblemsList(props: IProblemsProps): JSX.Element {
  const [open, setOpen] = React.useState(true);
  const errors = props.issues.filter(issue => issue.severity === 1).length;
  const summary = props.error
    ? 'Could not check the pipeline'
    : props.issues.length === 0
      ? props.checking
        ? 'Checking…'
        : 'No problems'
      : `${props.issues.length} problem${props.issues.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'})`;
  return (
    <section className="elyra-proc-problems" aria-label="Problems" data-testid="elyra-proc-problems">
      <button
        type="button"
        className="elyra-proc-problems-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        data-testid="elyra-proc-problems-summary"
        data-count={props.issues.length}
      >
        <span className={errors ? 'elyra-proc-error-text' : 'elyra-proc-muted'}>{summary}</span>
        {props.checking && props.issues.length > 0 && <span className="elyra-proc-muted"> · checking…</span>}
      </button>
      {props.error && <div className="elyra-proc-error-text">{props.error}</div>}
      {open && props.issues.length > 0 && (
        <ul className="elyra-proc-problems-list" role="list">
          {props.issues.map((issue, index) => (
            <li key={index}>
              <button
                type="button"
                className={`elyra-proc-problem elyra-proc-severity-${issue.severity}`}
                data-testid="elyra-proc-problem"
                onClick={() => props.onChoose(issue)}
              >
                <span className="elyra-proc-problem-severity">{SEVERITY[issue.severity] ?? ''}</span>
                <span className="elyra-proc-problem-where">{where(issue)}</span>
                <span className="elyra-proc-problem-message">{issue.message}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
