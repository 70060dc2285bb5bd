import { History } from '../history';

describe('History', () => {
  it('undoes and redoes snapshots with their labels', () => {
    const history = new History();
    history.reset('v0');
    expect(history.canUndo).toBe(false);
    expect(history.undo()).toBeNull();
    history.push('v1', 'Add node');
    history.push('v2', 'Link nodes');
    expect(history.undoLabel).toBe('Link nodes');
    expect(history.redoLabel).toBeNull();

    expect(history.undo()).toBe('v1');
    expect(history.undoLabel).toBe('Add node');
    expect(history.redoLabel).toBe('Link nodes');
    expect(history.undo()).toBe('v0');
    expect(history.canUndo).toBe(false);
    expect(history.undoLabel).toBeNull();
    expect(history.undo()).toBeNull();

    expect(history.redo()).toBe('v1');
    expect(history.redo()).toBe('v2');
    expect(history.canRedo).toBe(false);
    expect(history.redo()).toBeNull();
  });

  it('drops the redo branch when an edit follows an undo', () => {
    const history = new History();
    history.reset('v0');
    history.push('v1', 'Add node');
    history.push('v2', 'Move');
    history.undo();
    history.push('v3', 'Delete');
    expect(history.canRedo).toBe(false);
    expect(history.undo()).toBe('v1');
    expect(history.redo()).toBe('v3');
  });

  it('ignores a push of the current text', () => {
    const history = new History();
    history.reset('v0');
    history.push('v0', 'Nothing');
    expect(history.canUndo).toBe(false);
    history.push('v1', 'Add node');
    history.undo();
    history.push('v0', 'Nothing');
    expect(history.redoLabel).toBe('Add node');
  });

  it('forgets the oldest edits beyond its limit', () => {
    const history = new History(3);
    history.reset('v0');
    for (const version of ['v1', 'v2', 'v3', 'v4', 'v5']) {
      history.push(version, `to ${version}`);
    }
    const undone: (string | null)[] = [];
    while (history.canUndo) {
      undone.push(history.undo());
    }
    expect(undone).toEqual(['v4', 'v3', 'v2']);
    expect(history.redoLabel).toBe('to v3');
  });

  it('starts afresh on reset', () => {
    const history = new History();
    history.reset('v0');
    history.push('v1', 'Add node');
    history.reset('other');
    expect(history.canUndo).toBe(false);
    expect(history.canRedo).toBe(false);
    history.push('other 2', 'Move');
    expect(history.undo()).toBe('other');
  });

  it('has a default limit of 500 edits', () => {
    const history = new History();
    history.reset('0');
    for (let i = 1; i <= 501; i++) {
      history.push(String(i), 'edit');
    }
    let steps = 0;
    while (history.undo() !== null) {
      steps++;
    }
    expect(steps).toBe(500);
  });
});

describe('History memory', () => {
  it('forgets the oldest states when their text exceeds the budget, keeping at least one undo', () => {
    const history = new History(500, 25);
    history.reset('a'.repeat(10));
    history.push('b'.repeat(10), 'one');
    history.push('c'.repeat(10), 'two');
    history.push('d'.repeat(10), 'three');
    // 40 characters in four states: the two oldest go, leaving 20.
    expect(history.undo()).toBe('c'.repeat(10));
    expect(history.canUndo).toBe(false);
    expect(history.redo()).toBe('d'.repeat(10));
    const big = new History(500, 5);
    big.reset('x'.repeat(10));
    big.push('y'.repeat(10), 'huge');
    expect(big.undo()).toBe('x'.repeat(10));
  });
});
