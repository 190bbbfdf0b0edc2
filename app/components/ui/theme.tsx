import { createContext, useCallback, useContext, useState, type ReactNode } from "react";

/** The person's colour theme: "system" follows prefers-color-scheme; the others pin it. */
export const THEMES = ["system", "light", "dark"] as const;
export type Theme = (typeof THEMES)[number];
export const THEME_COOKIE = "theme";
const ONE_YEAR = 60 * 60 * 24 * 365;

/** The theme from a Cookie header (the root loader's, or document.cookie): anything unknown reads as system. */
export function themeFromCookie(cookieHeader: string | null | undefined): Theme {
  const match = /(?:^|;\s*)theme=([^;]*)/.exec(cookieHeader ?? "");
  const value = match?.[1];
  return (THEMES as readonly string[]).includes(value ?? "") ? (value as Theme) : "system";
}

/** What <html data-theme> carries: nothing for system, so the stylesheet's media query decides. */
export const themeAttribute = (theme: Theme) => (theme === "system" ? undefined : theme);

const ThemeContext = createContext<{ theme: Theme; setTheme(theme: Theme): void }>({ theme: "system", setTheme: () => {} });

/**
 * Holds the choice for the page's lifetime (the root loader is not re-run on navigation, so its data would
 * go stale) and stores it in a cookie the server reads, so the next page renders in it with no flash.
 */
export function ThemeProvider({ initial, children }: { initial: Theme; children(theme: Theme): ReactNode }) {
  const [theme, setThemeState] = useState(initial);
  const setTheme = useCallback((next: Theme) => {
    document.cookie = `${THEME_COOKIE}=${next}; Path=/; Max-Age=${ONE_YEAR}; SameSite=Lax`;
    setThemeState(next);
  }, []);
  return <ThemeContext.Provider value={{ theme, setTheme }}>{children(theme)}</ThemeContext.Provider>;
}

export const useTheme = () => useContext(ThemeContext);
