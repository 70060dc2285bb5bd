/**
 * The document widget of a `.pipeline` file: the editor under a toolbar (Run, Export, Undo, Redo, Arrange, text
 * editor) whose buttons follow the editor's state, and its factory.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import {
  checkIcon,
  fileIcon,
  redoIcon,
  refreshIcon,
  runIcon,
  ToolbarButtonComponent,
  undoIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { exportIcon } from '../icons';
import { IEditorServices, PipelineEditor } from './widget';

/** A toolbar button whose enabled state follows the editor. */
function editorButton(
  editor: PipelineEditor,
  options: {
    testid: string;
    label?: string;
    /** Read on each render: it may say what the button would do ("Undo Move"). */
    tooltip: string | (() => string);
    icon: React.ComponentProps<typeof ToolbarButtonComponent>['icon'];
    enabled: () => boolean;
    onClick: () => void;
  }
): ReactWidget {
  return ReactWidget.create(
    <UseSignal signal={editor.stateChanged}>
      {() => {
        const tooltip = typeof options.tooltip === 'function' ? options.tooltip() : options.tooltip;
        return (
          <ToolbarButtonComponent
            icon={options.icon}
            label={options.label}
            tooltip={tooltip}
            aria-label={tooltip}
            enabled={options.enabled()}
            dataset={{ testid: options.testid }}
            onClick={options.onClick}
          />
        );
      }}
    </UseSignal>
  );
}

/** "Undo Move (Ctrl+Z)": what the button would do, with its key. */
function withEdit(action: string, edit: string | null, keys: string): string {
  return `${action}${edit ? ` ${edit}` : ''} (${keys})`;
}

/** The document widget: the editor plus its toolbar (Run, Export, Undo, Redo, Auto layout, Fit). */
export class PipelineEditorDocument extends DocumentWidget<PipelineEditor> {
  constructor(options: DocumentWidget.IOptions<PipelineEditor>, services: IEditorServices) {
    super(options);
    this.addClass('elyra-proc-document');
    const editor = this.content;
    const loaded = (): boolean => editor.document !== null;
    const buttons: [string, Parameters<typeof editorButton>[1]][] = [
      [
        'run',
        {
          testid: 'elyra-proc-run-button',
          label: 'Run',
          tooltip: 'Run this pipeline',
          icon: runIcon,
          enabled: loaded,
          onClick: () => void services.run(this)
        }
      ],
      [
        'export',
        {
          testid: 'elyra-proc-export-button',
          label: 'Export',
          tooltip: 'Export this pipeline for a runtime configuration',
          icon: exportIcon,
          enabled: loaded,
          onClick: () => void services.exportPipeline(this)
        }
      ],
      [
        'validate',
        {
          testid: 'elyra-proc-validate-button',
          label: 'Validate',
          tooltip: 'Check the pipeline and list its problems',
          icon: checkIcon,
          enabled: loaded,
          onClick: () => void services.validate(this)
        }
      ],
      [
        'undo',
        {
          testid: 'elyra-proc-undo-button',
          tooltip: () => withEdit('Undo', editor.model.undoLabel, 'Ctrl+Z'),
          icon: undoIcon,
          enabled: () => editor.canUndo,
          onClick: () => editor.undo()
        }
      ],
      [
        'redo',
        {
          testid: 'elyra-proc-redo-button',
          tooltip: () => withEdit('Redo', editor.model.redoLabel, 'Ctrl+Shift+Z'),
          icon: redoIcon,
          enabled: () => editor.canRedo,
          onClick: () => editor.redo()
        }
      ],
      [
        'layout',
        {
          testid: 'elyra-proc-layout-button',
          label: 'Arrange',
          tooltip: 'Arrange the nodes left to right',
          icon: refreshIcon,
          enabled: loaded,
          onClick: () => editor.autoLayout()
        }
      ],
      [
        'text',
        {
          testid: 'elyra-proc-text-button',
          tooltip: 'Open in text editor',
          icon: fileIcon,
          enabled: () => true,
          onClick: () => services.openInTextEditor(this.context.path)
        }
      ]
    ];
    for (const [name, options] of buttons) {
      this.toolbar.addItem(`elyra-proc-${name}`, editorButton(editor, options));
    }
  }
}

export class PipelineEditorFactory extends ABCWidgetFactory<PipelineEditorDocument, DocumentRegistry.IModel> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<PipelineEditorDocument>,
    private readonly services: IEditorServices
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): PipelineEditorDocument {
    const content = new PipelineEditor(context, this.services);
    return new PipelineEditorDocument({ context, content }, this.services);
  }
}
