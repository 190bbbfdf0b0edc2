/** Remix's default browser entry, plus one filter on unhandled rejections (below). */
import { RemixBrowser } from "@remix-run/react";
import { startTransition, StrictMode } from "react";
import { hydrateRoot } from "react-dom/client";

// Single fetch decodes a loader response with turbo-stream (2.4), whose decode() leaves two promises unhandled when
// the body errors after its first line: a navigation that aborts a revalidation at that moment gets two "signal is
// aborted without reason" rejections the router has already dealt with (it dropped that request). An abort is never
// the page's error, so it is not reported; every other unhandled rejection still is.
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof DOMException && event.reason.name === "AbortError") event.preventDefault();
});

startTransition(() => {
  hydrateRoot(
    document,
    <StrictMode>
      <RemixBrowser />
    </StrictMode>,
  );
});
