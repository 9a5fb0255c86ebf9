import { describe, expect, it } from "vitest";
import type { RoomField } from "@atelier/protocol";
import { emptyUndo, recordEdit, takeRedo, takeUndo } from "@/lib/settings-undo";

function room(values: Partial<Record<RoomField, unknown>>) {
  return (field: RoomField) => values[field];
}

describe("settings undo", () => {
  it("undoes my edits newest first and redoes them", () => {
    let s = recordEdit(emptyUndo, { field: "styleWeight", before: 100, after: 1000 });
    s = recordEdit(s, { field: "tvWeight", before: 1, after: 5 });
    const first = takeUndo(s, room({ styleWeight: 1000, tvWeight: 5 }));
    expect(first.send).toEqual({ field: "tvWeight", before: 5, after: 1 });
    const second = takeUndo(first.stacks, room({ styleWeight: 1000, tvWeight: 1 }));
    expect(second.send).toEqual({ field: "styleWeight", before: 1000, after: 100 });
    expect(takeUndo(second.stacks, room({})).send).toBeNull();
    const redo = takeRedo(second.stacks, room({ styleWeight: 100, tvWeight: 1 }));
    expect(redo.send).toEqual({ field: "styleWeight", before: 100, after: 1000 });
    expect(redo.stacks.undo).toHaveLength(1);
  });

  it("skips an edit someone else overwrote since, instead of undoing theirs", () => {
    let s = recordEdit(emptyUndo, { field: "iterations", before: 100, after: 200 });
    s = recordEdit(s, { field: "styleWeight", before: 100, after: 1000 });
    // another member set styleWeight to 5 after me: my iterations edit is the one undone
    const { send, stacks } = takeUndo(s, room({ iterations: 200, styleWeight: 5 }));
    expect(send).toEqual({ field: "iterations", before: 200, after: 100 });
    expect(stacks.undo).toEqual([]);
    expect(takeUndo(stacks, room({ iterations: 100, styleWeight: 5 })).send).toBeNull();
  });

  it("a new edit ends redo; a no-op edit is not kept; values compare by content", () => {
    let s = recordEdit(emptyUndo, { field: "styleWeight", before: 100, after: 1000 });
    s = takeUndo(s, room({ styleWeight: 1000 })).stacks;
    expect(s.redo).toHaveLength(1);
    s = recordEdit(s, { field: "tvWeight", before: 1, after: 2 });
    expect(s.redo).toEqual([]);
    expect(recordEdit(emptyUndo, { field: "size", before: 256, after: 256 })).toBe(emptyUndo);
    const styles = [{ imageId: "a", weight: 1 }];
    const t = recordEdit(emptyUndo, { field: "styles", before: [], after: styles });
    expect(takeUndo(t, room({ styles: [{ imageId: "a", weight: 1 }] })).send?.after).toEqual([]);
  });

  it("keeps at most 100 edits", () => {
    let s = emptyUndo;
    for (let i = 0; i < 150; i++) s = recordEdit(s, { field: "seed", before: i, after: i + 1 });
    expect(s.undo).toHaveLength(100);
    expect(s.undo[0]!.before).toBe(50);
  });
});
