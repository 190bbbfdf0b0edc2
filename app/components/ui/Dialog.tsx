import * as RadixDialog from "@radix-ui/react-dialog";
import { useRef, type ReactNode, type RefObject } from "react";

interface DialogProps {
  /** The dialog's accessible name, rendered as its heading (an <h2>). */
  title: ReactNode;
  /** Shown while true; a dialog mounted only while open can leave it at its default. */
  open?: boolean;
  /** Esc, a click outside, or the close button asked to close. */
  onClose(): void;
  /** A button that opens the dialog (Radix returns focus to it on close). Without one, focus goes back to
      whatever had it when the dialog opened. */
  trigger?: ReactNode;
  /** What to focus first; Radix's default is the first focusable element. */
  initialFocus?: RefObject<HTMLElement>;
  /** Right of the title, e.g. a Close button (use <DialogClose>). */
  headerActions?: ReactNode;
  /** Render in place instead of at the end of <body> (keeps the dialog inside a panel's DOM subtree). */
  inline?: boolean;
  className?: string;
  testId?: string;
  children: ReactNode;
}

/**
 * The one modal dialog: Radix gives the focus trap, Esc, click-outside, aria-modal and the labelled role;
 * this adds the studio's look (.modal) and puts focus back where it was when no trigger is given.
 */
export function Dialog({ title, open = true, onClose, trigger, initialFocus, headerActions, inline, className, testId, children }: DialogProps) {
  // Captured during the first render, before Radix moves focus into the dialog.
  const opener = useRef<HTMLElement | null | undefined>(undefined);
  if (opener.current === undefined && typeof document !== "undefined") opener.current = document.activeElement as HTMLElement | null;
  const body = (
    <RadixDialog.Overlay className="modal-backdrop">
      <RadixDialog.Content
        className={["modal", className].filter(Boolean).join(" ")}
        data-testid={testId}
        aria-describedby={undefined}
        onOpenAutoFocus={(event) => {
          if (!initialFocus?.current) return;
          event.preventDefault();
          initialFocus.current.focus();
        }}
        onCloseAutoFocus={(event) => {
          if (trigger) return; // Radix focuses the trigger
          event.preventDefault();
          if (opener.current?.isConnected) opener.current.focus();
        }}
      >
        <div className="modal-head">
          <RadixDialog.Title>{title}</RadixDialog.Title>
          {headerActions}
        </div>
        {children}
      </RadixDialog.Content>
    </RadixDialog.Overlay>
  );
  return (
    <RadixDialog.Root
      open={open}
      onOpenChange={(next) => {
        if (!next) onClose();
      }}
    >
      {trigger ? <RadixDialog.Trigger asChild>{trigger}</RadixDialog.Trigger> : null}
      {open ? inline ? body : <RadixDialog.Portal>{body}</RadixDialog.Portal> : null}
    </RadixDialog.Root>
  );
}

/** A button that closes the enclosing dialog. */
export const DialogClose = RadixDialog.Close;
