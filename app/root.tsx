import "~/lib/zod-jitless";
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { isRouteErrorResponse, Link, Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError, useRouteLoaderData } from "@remix-run/react";
import type { ReactNode } from "react";
import { themeAttribute, themeFromCookie, ThemeProvider } from "~/components/ui/theme";
import { ToastProvider } from "~/components/ui/Toast";
import { TooltipProvider } from "~/components/ui/Tooltip";
import { useNonce } from "~/lib/nonce";
import styles from "~/styles/app.css";

export const links: LinksFunction = () => [
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
  { rel: "stylesheet", href: styles },
];

export const meta: MetaFunction = () => [{ title: "Algorythmos Studio" }];

/** The theme cookie, so the server renders <html data-theme> itself: no light flash before hydration. */
export function loader({ request }: LoaderFunctionArgs) {
  return { theme: themeFromCookie(request.headers.get("Cookie")) };
}

export function Layout({ children }: { children: ReactNode }) {
  // Inline scripts run only with the response's CSP nonce (server/security-headers.ts).
  const nonce = useNonce();
  const initial = useRouteLoaderData<typeof loader>("root")?.theme ?? "system";
  return (
    <ThemeProvider initial={initial}>
      {(theme) => (
        <html lang="en" data-theme={themeAttribute(theme)}>
          <head>
            <meta charSet="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="color-scheme" content="light dark" />
            <Meta />
            <Links />
          </head>
          <body>
            <TooltipProvider>
              <ToastProvider>{children}</ToastProvider>
            </TooltipProvider>
            <ScrollRestoration nonce={nonce} />
            <Scripts nonce={nonce} />
          </body>
        </html>
      )}
    </ThemeProvider>
  );
}

export default function App() {
  return <Outlet />;
}

/** The one error boundary: routes throw Responses (404, 403) or crash; both end up here. */
export function ErrorBoundary() {
  const error = useRouteError();
  const [title, detail] = isRouteErrorResponse(error)
    ? [error.status === 404 ? "Not found" : `Error ${error.status}`, typeof error.data === "string" ? error.data : error.statusText]
    : ["Something went wrong", "An unexpected error happened. It has been logged; try again."];
  return (
    <main className="page narrow">
      <h1>{title}</h1>
      <p role="alert">{detail}</p>
      <p>
        <Link to="/workflows">Back to your workflows</Link>
      </p>
    </main>
  );
}
