// Small controls shared by the panels, the dialogs and the pipeline editor, in JupyterLab's own classes.

import { caretDownEmptyIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

/**
 * What a button does, as JupyterLab's dialog buttons say it: `accept` the primary action (blue), `reject` a secondary
 * one (grey), `warn` one that destroys or stops something (red). The extension's one button style.
 */
export type ButtonKind = 'accept' | 'reject' | 'warn';

/**
 * The classes of a button of that kind: JupyterLab's `jp-Button jp-mod-styled jp-mod-<kind>`, plus
 * `elyra-proc-small-button` for the compact ones in sidebar rows and the run view.
 */
export function buttonClass(kind: ButtonKind, small = false): string {
  return `jp-Button jp-mod-styled jp-mod-${kind}${small ? ' elyra-proc-small-button' : ''}`;
}

export interface IButtonProps extends Omit<React.ButtonHTMLAttributes<HTMLButtonElement>, 'className'> {
  kind: ButtonKind;
  /** Compact, for rows of a list (sidebar panels, the run view). */
  small?: boolean;
  testId?: string;
}

/** A text button in the extension's one style; `type="button"` unless given. */
export function Button({ kind, small, testId, type, ...rest }: IButtonProps): JSX.Element {
  return <button type={type ?? 'button'} className={buttonClass(kind, small)} data-testid={testId} {...rest} />;
}

export interface ISelectProps extends Omit<React.SelectHTMLAttributes<HTMLSelectElement>, 'className'> {
  testId?: string;
}

/** A select as JupyterLab's dialogs draw one (`jp-select-wrapper`, `jp-mod-styled`, the caret icon). */
export function Select({ testId, ...rest }: ISelectProps): JSX.Element {
  return (
    <div className="jp-select-wrapper elyra-proc-select">
      <select className="jp-mod-styled" data-testid={testId} {...rest} />
      <caretDownEmptyIcon.react tag="span" stylesheet="select" right="8px" top="5px" width="18px" />
    </div>
  );
}

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
