/**
 * The expression editor behind ExpressionField (loaded lazily, like the code editor): the code editor's CodeMirror +
 * y-codemirror.next binding (./code-editor.client.ts: the field's Y.Text, remote carets, per-user undo) with
 * JSONata highlighting, inline syntax errors from the worker's parser (`expressionSyntaxError`, the `jsonata`
 * package's parse) and completion of `input.…`, `steps.<key>.output.…` from ~/lib/expression-scope.
 */
import { autocompletion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { StreamLanguage } from "@codemirror/language";
import { linter, type Diagnostic } from "@codemirror/lint";
import { Prec } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { expressionSyntaxError } from "@algorythmos/domain";
import { completionsAt, pathBeforeCaret, type ExpressionScope } from "~/lib/expression-scope";
import { mountCodeEditor, type CodeEditorHandle, type CodeEditorOptions } from "./code-editor.client";

/** JSONata tokens, enough to colour an expression: strings, numbers, $variables and functions, keywords, operators, comments. */
const jsonataLanguage = StreamLanguage.define<{ comment: boolean }>({
  name: "jsonata",
  startState: () => ({ comment: false }),
  token(stream, state) {
    if (state.comment) {
      if (stream.skipTo("*/")) {
        stream.match("*/");
        state.comment = false;
      } else stream.skipToEnd();
      return "comment";
    }
    if (stream.eatSpace()) return null;
    if (stream.match("/*")) {
      state.comment = true;
      return "comment";
    }
    const quote = stream.peek();
    if (quote === '"' || quote === "'") {
      stream.next();
      let escaped = false;
      for (let ch = stream.next(); ch !== undefined && ch !== null; ch = stream.next()) {
        if (ch === quote && !escaped) break;
        escaped = !escaped && ch === "\\";
      }
      return "string";
    }
    if (stream.match(/^`[^`]*`?/)) return "propertyName";
    if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return "number";
    if (stream.match(/^\$[A-Za-z_]\w*(?=\s*\()/)) return "variableName.function";
    if (stream.match(/^\$\$?[A-Za-z_]?\w*/)) return "variableName";
    if (stream.match(/^(and|or|in|function|true|false|null)\b/)) return "keyword";
    if (stream.match(/^(input|steps|item|index)\b/)) return "variableName.special";
    if (stream.match(/^[A-Za-z_]\w*/)) return "propertyName";
    if (stream.match(/^(:=|!=|<=|>=|\.\.|~>|\?:|\?\?|[-+*/%&=<>?:.,;|^#@!~])/)) return "operator";
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { block: { open: "/*", close: "*/" } } },
});


/** A compact, expression-sized editor (the code editor's theme is sized for a function body). */
const expressionTheme = Prec.highest(
  EditorView.theme({
    ".cm-scroller": { minHeight: "2.4rem", maxHeight: "14rem" },
    ".cm-content": { padding: "6px 4px" },
    ".cm-tooltip-autocomplete": { fontSize: "12.5px" },
    ".cm-completionDetail": { marginLeft: "1em", opacity: "0.7", fontStyle: "normal" },
  }),
);

/** The editor's inline diagnostic: jsonata's position is just after the token it stopped at. */
export function syntaxDiagnostics(text: string): Diagnostic[] {
  if (!text.trim()) return [];
  const error = expressionSyntaxError(text);
  if (!error) return [];
  const end = Math.max(1, Math.min(error.position ?? text.length, text.length));
  return [{ from: Math.max(0, end - 1), to: end, severity: "error", message: error.message }];
}

export interface ExpressionEditorOptions extends Omit<CodeEditorOptions, "language" | "extensions" | "gutter"> {
  /** The scope at the moment of asking (earlier steps, last run): read on each completion request. */
  scope(): ExpressionScope;
  onText(text: string): void;
}

export function mountExpressionEditor({ scope, onText, ...options }: ExpressionEditorOptions): CodeEditorHandle {
  const complete = (context: CompletionContext): CompletionResult | null => {
    const before = context.state.sliceDoc(Math.max(0, context.pos - 300), context.pos);
    const at = pathBeforeCaret(before);
    if (!at) return null;
    // At the top level only when asked (Ctrl+Space) or a word is begun; after a dot always.
    if (!at.path.length && !at.word && !context.explicit) return null;
    const options = completionsAt(scope(), at.path).map((item) => ({
      label: item.label,
      detail: item.detail,
      type: item.kind === "step" ? "class" : item.kind === "function" ? "function" : item.kind === "variable" ? "variable" : "property",
      ...(item.kind === "function" ? { apply: `${item.label}()` } : {}),
    }));
    if (!options.length) return null;
    return { from: context.pos - at.word.length, options, validFor: /^[\w$]*$/ };
  };
  return mountCodeEditor({
    ...options,
    gutter: false,
    // Coloured by the code editor's highlight style (codeHighlightStyle: the --code-* tokens), from these standard token names.
    language: jsonataLanguage,
    extensions: [
      expressionTheme,
      autocompletion({ override: [complete], activateOnTyping: true, icons: false }),
      linter((view) => syntaxDiagnostics(view.state.doc.toString()), { delay: 250 }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onText(update.state.doc.toString());
      }),
    ],
  });
}
