/**
 * The dialog listing a pipeline's validation issues; choosing an issue about a node returns it, so the caller
 * can select that node in the graph.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IIssue } from './api';

function severityLabel(issue: IIssue): string {
  return issue.severity === 1 ? 'Error' : issue.severity === 2 ? 'Warning' : 'Note';
}

function IssueList(props: { issues: IIssue[]; onChoose: (issue: IIssue) => void }): JSX.Element {
  return (
    <ul className="elyra-proc-issues" data-testid="elyra-proc-issues" aria-label="Pipeline issues">
      {props.issues.map((issue, index) => {
        const nodeName = issue.data?.nodeName || issue.data?.nodeID;
        const property = issue.data?.propertyName;
        const text = (
          <>
            <span className={`elyra-proc-issue-severity elyra-proc-severity-${issue.severity}`}>
              {severityLabel(issue)}
            </span>
            {nodeName && <span className="elyra-proc-issue-node">{nodeName}</span>}
            {property && <span className="elyra-proc-issue-property">{property}</span>}
            <span className="elyra-proc-issue-message">{issue.message}</span>
          </>
        );
        return (
          <li key={index} className="elyra-proc-issue" data-issue-type={issue.type}>
            {issue.data?.nodeID ? (
              <button
                type="button"
                className="elyra-proc-issue-button"
                data-testid={`elyra-proc-issue-${index}`}
                data-node-id={issue.data.nodeID}
                aria-label={`Select node ${nodeName}: ${issue.message}`}
                onClick={() => props.onChoose(issue)}
              >
                {text}
              </button>
            ) : (
              <div className="elyra-proc-issue-text" data-testid={`elyra-proc-issue-${index}`}>
                {text}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * Show the issues; resolves with the issue the user chose (to select its node), or null when closed.
 */
export async function showIssues(title: string, message: string, issues: IIssue[]): Promise<IIssue | null> {
  let chosen: IIssue | null = null;
  let dialog: Dialog<unknown> | null = null;
  const body = ReactWidget.create(
    <div className="elyra-proc-issues-body">
      <p>{message}</p>
      {issues.some(issue => issue.data?.nodeID) && (
        <p className="elyra-proc-hint">Choose an issue to select its node in the pipeline graph.</p>
      )}
      <IssueList
        issues={issues}
        onChoose={issue => {
          chosen = issue;
          dialog?.resolve();
        }}
      />
    </div>
  );
  body.addClass('elyra-proc-dialog-body');
  dialog = new Dialog({
    title,
    body,
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
  dialog.addClass('elyra-proc-issues-dialog');
  try {
    await dialog.launch();
  } finally {
    dialog.dispose();
  }
  return chosen;
}
