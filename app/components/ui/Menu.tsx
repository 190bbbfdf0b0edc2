import * as RadixMenu from "@radix-ui/react-dropdown-menu";
import type { ReactElement, ReactNode } from "react";
import { Tooltip } from "./Tooltip";

/**
 * A dropdown menu: arrow keys, typeahead, Esc and focus return come from Radix. `trigger` is one button
 * (it gets aria-haspopup and aria-expanded); items are <MenuItem>, <MenuRadioGroup>/<MenuRadioItem>.
 * `tooltip` shows on the trigger's hover and keyboard focus.
 */
export function Menu({ trigger, label, tooltip, children, align = "end" }: { trigger: ReactElement; label?: string; tooltip?: ReactNode; children: ReactNode; align?: "start" | "center" | "end" }) {
  const button = <RadixMenu.Trigger asChild>{trigger}</RadixMenu.Trigger>;
  return (
    <RadixMenu.Root modal={false}>
      {tooltip ? <Tooltip content={tooltip}>{button}</Tooltip> : button}
      <RadixMenu.Portal>
        <RadixMenu.Content className="ui-menu" align={align} sideOffset={6} collisionPadding={8} aria-label={label}>
          {children}
        </RadixMenu.Content>
      </RadixMenu.Portal>
    </RadixMenu.Root>
  );
}

export function MenuItem({ children, onSelect, danger }: { children: ReactNode; onSelect(): void; danger?: boolean }) {
  return (
    <RadixMenu.Item className={danger ? "ui-menu-item danger" : "ui-menu-item"} onSelect={onSelect}>
      {children}
    </RadixMenu.Item>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <RadixMenu.Label className="ui-menu-label">{children}</RadixMenu.Label>;
}

export const MenuSeparator = () => <RadixMenu.Separator className="ui-menu-separator" />;

export function MenuRadioGroup({ value, onValueChange, children }: { value: string; onValueChange(value: string): void; children: ReactNode }) {
  return (
    <RadixMenu.RadioGroup value={value} onValueChange={onValueChange}>
      {children}
    </RadixMenu.RadioGroup>
  );
}

export function MenuRadioItem({ value, children }: { value: string; children: ReactNode }) {
  return (
    <RadixMenu.RadioItem className="ui-menu-item" value={value}>
      <span className="ui-menu-check" aria-hidden="true">
        <RadixMenu.ItemIndicator>✓</RadixMenu.ItemIndicator>
      </span>
      {children}
    </RadixMenu.RadioItem>
  );
}
