import * as RadixToast from "@radix-ui/react-toast";
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export type ToastTone = "info" | "success" | "error";
interface ToastItem {
  id: number;
  message: string;
  tone: ToastTone;
}
type ShowToast = (message: string, options?: { tone?: ToastTone }) => void;

const ToastContext = createContext<ShowToast | null>(null);

/**
 * Short confirmations ("Copied", "Saved") in one corner, announced to screen readers by Radix (a polite live
 * region; errors assertive) and dismissable with F8 then Esc or by swiping. One provider, in app/root.tsx.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const show = useCallback<ShowToast>((message, options) => {
    const item = { id: nextId.current++, message, tone: options?.tone ?? "info" };
    setToasts((current) => [...current.slice(-2), item]); // at most three on screen
  }, []);
  const remove = (id: number) => setToasts((current) => current.filter((t) => t.id !== id));
  return (
    <ToastContext.Provider value={show}>
      <RadixToast.Provider swipeDirection="right" duration={4000} label="Notification">
        {children}
        {toasts.map((toast) => (
          <RadixToast.Root
            key={toast.id}
            className={`ui-toast ${toast.tone}`}
            type={toast.tone === "error" ? "foreground" : "background"}
            duration={toast.tone === "error" ? 8000 : 4000}
            onOpenChange={(open) => {
              if (!open) remove(toast.id);
            }}
          >
            <RadixToast.Description className="ui-toast-message">{toast.message}</RadixToast.Description>
            <RadixToast.Close className="ui-toast-close" aria-label="Dismiss">
              ×
            </RadixToast.Close>
          </RadixToast.Root>
        ))}
        <RadixToast.Viewport className="ui-toast-viewport" />
      </RadixToast.Provider>
    </ToastContext.Provider>
  );
}

/** `const toast = useToast(); toast("Copied")` — or `toast("Could not save", { tone: "error" })`. */
export function useToast(): ShowToast {
  const show = useContext(ToastContext);
  // Outside the provider (a component rendered alone): do nothing rather than crash.
  return useMemo(() => show ?? (() => {}), [show]);
}
