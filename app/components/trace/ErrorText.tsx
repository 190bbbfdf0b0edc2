import { useId } from "react";
import { truncateAtWord } from "~/lib/runs";

/**
 * An error cut at a word boundary with an ellipsis, the whole text in a tooltip on hover and on keyboard focus
 * (the cut text is focusable, and the tooltip is its accessible description). Short errors show as they are.
 */
export function ErrorText({ text, max = 80, className = "" }: { text: string; max?: number; className?: string }) {
  const id = useId();
  const short = truncateAtWord(text, max);
  if (short === text.replace(/\s+/g, " ").trim()) return <span className={`error-text ${className}`}>{short}</span>;
  return (
    <span className={`error-text has-tooltip ${className}`} tabIndex={0} aria-describedby={`${id}-full`} data-testid="error-text">
      {short}
      <span role="tooltip" id={`${id}-full`} className="tooltip">
        {text}
      </span>
    </span>
  );
}
