/**
 * Undo and redo as a stack of whole document texts: restoring a snapshot restores every property exactly (Elyra's
 * editor replays commands and loses node properties on undo).
 */

interface ISnapshot {
  text: string;
  /** What the edit that led to this state did, e.g. "Add node". */
  label: string;
}

export class History {
  /** The states, oldest first; `snapshots[current]` is the document's state now. */
  private snapshots: ISnapshot[] = [];
  private current = -1;

  /**
   * `limit`: how many edits can be undone; `maxChars`: how much text all states may hold together (a 2,000-node
   * pipeline is about 2 MB of text, so 500 of its states would take a gigabyte). Older states are forgotten first.
   */
  constructor(
    private readonly limit = 500,
    private readonly maxChars = 64 * 1024 * 1024
  ) {}

  /** Forget every edit: `text` is the state to start from (after opening or reverting). */
  reset(text: string): void {
    this.snapshots = [{ text, label: '' }];
    this.current = 0;
  }

  /** Record the state after an edit; a text equal to the current one is no edit. Drops what could be redone. */
  push(text: string, label: string): void {
    if (this.current >= 0 && this.snapshots[this.current].text === text) {
      return;
    }
    this.snapshots = this.snapshots.slice(0, this.current + 1);
    this.snapshots.push({ text, label });
    let drop = Math.max(0, this.snapshots.length - this.limit - 1);
    let kept = this.snapshots.slice(drop).reduce((sum, snapshot) => sum + snapshot.text.length, 0);
    while (drop < this.snapshots.length - 2 && kept > this.maxChars) {
      kept -= this.snapshots[drop].text.length;
      drop++;
    }
    this.snapshots = this.snapshots.slice(drop);
    this.current = this.snapshots.length - 1;
  }

  /** The state before the last edit, or null when there is nothing to undo. */
  undo(): string | null {
    if (!this.canUndo) {
      return null;
    }
    this.current--;
    return this.snapshots[this.current].text;
  }

  /** The state after the edit last undone, or null when there is nothing to redo. */
  redo(): string | null {
    if (!this.canRedo) {
      return null;
    }
    this.current++;
    return this.snapshots[this.current].text;
  }

  get canUndo(): boolean {
    return this.current > 0;
  }

  get canRedo(): boolean {
    return this.current < this.snapshots.length - 1;
  }

  /** The label of the edit that undo would take back. */
  get undoLabel(): string | null {
    return this.canUndo ? this.snapshots[this.current].label : null;
  }

  /** The label of the edit that redo would make again. */
  get redoLabel(): string | null {
    return this.canRedo ? this.snapshots[this.current + 1].label : null;
  }
}
