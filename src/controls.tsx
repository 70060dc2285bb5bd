// Small controls shared by the panels and the pipeline editor.

import * as React from 'react';

export interface IIconButtonProps {
  testId: string;
  label: string;
  /** Tooltip; the accessible label when not given. */
  title?: string;
  onClick: () => void;
  children: React.ReactNode;
}

/** A compact toolbar button with an accessible name and a test hook. */
export function IconButton(props: IIconButtonProps): JSX.Element {
  return (
    <button
      type="button"
      className="elyra-proc-icon-button"
      data-testid={props.testId}
      aria-label={props.label}
      title={props.title ?? props.label}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

export interface ILinkButtonProps {
  /** The accessible name: what choosing it does ("Open report.py"). */
  label: string;
  testId?: string;
  onClick: () => void;
  children: React.ReactNode;
}

/** A button that looks like a link: it opens a file or another panel rather than changing anything. */
export function LinkButton(props: ILinkButtonProps): JSX.Element {
  return (
    <button
      type="button"
      className="elyra-proc-link-button"
      data-testid={props.testId}
      aria-label={props.label}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}
