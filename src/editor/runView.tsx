/**
 * What the editor shows of the file's newest run: its status in the header, the selected node's status, error
 * and artifacts in the properties panel, and the colours' legend under the canvas.
 */
import * as React from 'react';

import { INodeRecord, IRunRecord, isFinal } from '../api';
import { Button, LinkButton } from '../controls';
import { durationOf, formatDuration, shortId, statusText } from '../format';

export function RunStatus(props: {
  run: IRunRecord | null;
  error: string | null;
  onShowRun: (runId: string) => void;
}): JSX.Element {
  const { run } = props;
  return (
    <div
      className="elyra-proc-view-run"
      role="status"
      aria-live="polite"
      data-testid="elyra-proc-view-run-status"
      data-status={run?.status ?? 'none'}
      data-run-id={run?.id ?? ''}
    >
      {run ? (
        <>
          <span>{isFinal(run.status) ? 'Last run' : 'Run'} </span>
          <LinkButton label={`Show run ${run.id} in the Pipeline Runs panel`} onClick={() => props.onShowRun(run.id)}>
            {shortId(run.id)}
          </LinkButton>
          <span className={`elyra-proc-badge elyra-proc-status-${run.status}`}>{statusText(run)}</span>
          <span className="elyra-proc-muted">{formatDuration(durationOf(run))}</span>
        </>
      ) : (
        <span className="elyra-proc-muted">Not run yet from this server</span>
      )}
      {props.error && <span className="elyra-proc-error-text">{props.error}</span>}
    </div>
  );
}

const ARTIFACT_LABELS: Record<string, string> = { notebook: 'Executed notebook', log: 'Log' };

export function NodeRunDetails(props: {
  run: IRunRecord | null;
  nodeId: string | undefined;
  onOpenArtifact: (run: IRunRecord, node: INodeRecord, name: string) => void;
}): JSX.Element | null {
  const { run } = props;
  const record = run?.nodes.find(node => node.id === props.nodeId);
  if (!run || !record) {
    return null;
  }
  const artifacts = Object.keys(record.artifacts ?? {});
  return (
    <dl className="elyra-proc-details-list">
      <dt>Status</dt>
      <dd data-testid="elyra-proc-details-status">
        <span className={`elyra-proc-badge elyra-proc-status-${record.status}`}>{record.status}</span>{' '}
        {formatDuration(durationOf(record))}
      </dd>
      {record.error && (
        <>
          <dt>Error</dt>
          <dd className="elyra-proc-error-text">{record.error}</dd>
        </>
      )}
      {artifacts.length > 0 && (
        <>
          <dt>Output</dt>
          <dd className="elyra-proc-actions">
            {artifacts.map(name => (
              <Button
                key={name}
                kind="reject"
                small
                testId={`elyra-proc-details-artifact-${name}`}
                aria-label={`Open the ${name} of ${record.name} in run ${shortId(run.id)}`}
                onClick={() => props.onOpenArtifact(run, record, name)}
              >
                {ARTIFACT_LABELS[name] ?? name}
              </Button>
            ))}
          </dd>
        </>
      )}
    </dl>
  );
}

const LEGEND = ['pending', 'running', 'submitted', 'succeeded', 'failed', 'skipped', 'cancelled'];

export function RunLegend(): JSX.Element {
  return (
    <div className="elyra-proc-legend" aria-hidden="true">
      {LEGEND.map(status => (
        <span key={status} className={`elyra-proc-legend-item elyra-proc-status-${status}`}>
          <span className="elyra-proc-legend-swatch" />
          {status}
        </span>
      ))}
    </div>
  );
}
