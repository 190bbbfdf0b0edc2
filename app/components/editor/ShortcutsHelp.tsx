import { Dialog, DialogClose } from "~/components/ui/Dialog";

/** The canvas's keyboard shortcuts, as the help sheet lists them (Ctrl reads ⌘ on a Mac). */
export const SHORTCUTS: { group: string; items: { keys: string[]; action: string }[] }[] = [
  {
    group: "Steps",
    items: [
      { keys: ["/"], action: "Search the step library" },
      { keys: ["Ctrl", "C"], action: "Copy the selected steps (as workflow JSON)" },
      { keys: ["Ctrl", "X"], action: "Cut the selected steps" },
      { keys: ["Ctrl", "V"], action: "Paste steps, here or in another workflow" },
      { keys: ["Ctrl", "D"], action: "Duplicate the selected steps" },
      { keys: ["Delete"], action: "Delete the selected steps or edges" },
      { keys: ["Arrows"], action: "Move the selected steps (with Shift: further)" },
    ],
  },
  {
    group: "Selection",
    items: [
      { keys: ["Shift", "Click"], action: "Add a step to the selection" },
      { keys: ["Shift", "Drag"], action: "Select the steps in a box" },
      { keys: ["Ctrl", "A"], action: "Select every step" },
      { keys: ["Esc"], action: "Clear the selection" },
    ],
  },
  {
    group: "Canvas",
    items: [
      { keys: ["Shift", "L"], action: "Tidy up: lay the workflow out automatically" },
      { keys: ["Shift", "1"], action: "Fit the workflow in view" },
      { keys: ["Ctrl", "Z"], action: "Undo your last change" },
      { keys: ["Ctrl", "Shift", "Z"], action: "Redo" },
      { keys: ["?"], action: "Show these shortcuts" },
    ],
  },
];

/** The shortcuts help sheet: a modal dialog, closed by Esc, its button or a click outside; focus goes back. */
export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  return (
    <Dialog
      title="Keyboard shortcuts"
      onClose={onClose}
      className="shortcuts-help"
      headerActions={
        <DialogClose asChild>
          <button type="button">Close</button>
        </DialogClose>
      }
    >
      <div className="shortcuts-groups">
        {SHORTCUTS.map(({ group, items }) => (
          <section key={group} aria-label={group}>
            <h3>{group}</h3>
            <dl>
              {items.map(({ keys, action }) => (
                <div key={action} className="shortcut-row">
                  <dt>
                    {keys.map((key, index) => (
                      <span key={key}>
                        {index ? <span className="plus">+</span> : null}
                        <kbd>{key}</kbd>
                      </span>
                    ))}
                  </dt>
                  <dd>{action}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Dialog>
  );
}
