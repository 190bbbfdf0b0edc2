import { Menu, MenuLabel, MenuRadioGroup, MenuRadioItem } from "./Menu";
import { THEMES, useTheme, type Theme } from "./theme";

const LABELS: Record<Theme, string> = { system: "System", light: "Light", dark: "Dark" };

function ThemeIcon({ theme }: { theme: Theme }) {
  const common = { width: 16, height: 16, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 2, strokeLinecap: "round", strokeLinejoin: "round", "aria-hidden": true } as const;
  if (theme === "dark") return <svg {...common}><path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" /></svg>;
  if (theme === "light")
    return (
      <svg {...common}>
        <circle cx="12" cy="12" r="4" />
        <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
      </svg>
    );
  return (
    <svg {...common}>
      <rect x="3" y="4" width="18" height="12" rx="2" />
      <path d="M8 20h8M12 16v4" />
    </svg>
  );
}

/** The header's theme switch: System / Light / Dark, as a menu of radio items. */
export function ThemeMenu() {
  const { theme, setTheme } = useTheme();
  return (
    <Menu
      label="Theme"
      tooltip={`Theme: ${LABELS[theme]}`}
      trigger={
        <button type="button" className="ghost icon-button" aria-label={`Theme: ${LABELS[theme]}`}>
          <ThemeIcon theme={theme} />
        </button>
      }
    >
      <MenuLabel>Theme</MenuLabel>
      <MenuRadioGroup value={theme} onValueChange={(value) => setTheme(value as Theme)}>
        {THEMES.map((option) => (
          <MenuRadioItem key={option} value={option}>
            {LABELS[option]}
          </MenuRadioItem>
        ))}
      </MenuRadioGroup>
    </Menu>
  );
}
