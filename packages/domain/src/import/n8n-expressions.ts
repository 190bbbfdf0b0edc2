/**
 * n8n expressions (`={{ $json.x }}`, `=Hello {{ $('Node').item.json.name }}`) translated into ours: JSONata for
 * `transform` / `condition` expressions, `{{ path }}` templates for http.request, openai.chat and postmark
 * fields (docs/run-engine.md R7, R12). Only the part of JavaScript whose meaning is the same in JSONata is
 * translated — references to item data, literals, comparisons, `&&`/`||`/`!`, arithmetic other than `+`,
 * ternaries, object and array literals. Anything else is reported as not translated, never guessed.
 */

/** Where `$json` (or a named node's `json`) lives in our run context, as path segments. */
export interface DataRef {
  segments: string[];
  /** The source node is an OpenAI node: n8n's `message.content` is our `content`; other fields differ. */
  openai?: boolean;
  /** Set when the reference is not exactly the same data in n8n (e.g. a node with several inputs). */
  inexact?: string;
}

/** What the translator may ask about the workflow around the node being translated. */
export interface ExpressionScope {
  /** `$json` / `$input.item.json` of the node being translated, or null when it has no input. */
  input(): DataRef | null;
  /** `$('Name').item.json` / `$node["Name"].json`, or null when no step was imported for that node. */
  node(name: string): DataRef | null;
}

export type Translation = { ok: true; text: string; exact: true } | { ok: false; reason: string };

type Token =
  | { kind: "id"; value: string }
  | { kind: "num"; value: string }
  | { kind: "str"; value: string }
  | { kind: "op"; value: string };

const OPERATORS = ["===", "!==", "==", "!=", "<=", ">=", "&&", "||", "?.", "=>", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"];

class Untranslatable extends Error {}

function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < code.length) {
    const char = code[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (/[A-Za-z_$]/.test(char)) {
      const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(code.slice(i))!;
      tokens.push({ kind: "id", value: match[0] });
      i += match[0].length;
      continue;
    }
    if (/[0-9]/.test(char)) {
      const match = /^(?:\d+\.?\d*(?:[eE][+-]?\d+)?)/.exec(code.slice(i))!;
      tokens.push({ kind: "num", value: match[0] });
      i += match[0].length;
      continue;
    }
    if (char === '"' || char === "'") {
      let value = "";
      let j = i + 1;
      for (; j < code.length && code[j] !== char; j++) {
        if (code[j] === "\\") {
          const next = code[++j];
          const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
          if (next === undefined || !(next in escapes)) throw new Untranslatable("an escape sequence in a string");
          value += escapes[next];
        } else value += code[j];
      }
      if (j >= code.length) throw new Untranslatable("an unterminated string");
      tokens.push({ kind: "str", value });
      i = j + 1;
      continue;
    }
    if (char === "`") throw new Untranslatable("a template literal");
    const operator = OPERATORS.find((candidate) => code.startsWith(candidate, i));
    if (!operator) throw new Untranslatable(`"${char}"`);
    tokens.push({ kind: "op", value: operator });
    i += operator.length;
  }
  return tokens;
}

/** A JSONata field name: backticked unless it is a plain identifier. */
function jsonataField(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !["and", "or", "in", "true", "false", "null", "function"].includes(name)) return name;
  if (name.includes("`")) throw new Untranslatable(`the field name ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** A JSONata path from segments (numbers are array positions). */
export function jsonataPath(segments: (string | number)[]): string {
  let text = "";
  for (const segment of segments) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += (text ? "." : "") + jsonataField(segment);
  }
  return text || "$";
}

/** A recursive-descent parser over the JavaScript subset, writing JSONata as it goes. */
class Parser {
  private position = 0;
  /** Set when the whole expression is one data reference: its path, for `{{ path }}` templates. */
  referencePath: (string | number)[] | null = null;
  private references = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly scope: ExpressionScope,
  ) {}

  parse(): string {
    const text = this.ternary();
    if (this.position < this.tokens.length) throw new Untranslatable(`"${this.peek()!.value}"`);
    return text;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.position + offset];
  }
  private isOp(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === "op" && token.value === value;
  }
  private take(value: string): void {
    if (!this.isOp(value)) throw new Untranslatable(this.peek() ? `"${this.peek()!.value}" where "${value}" was expected` : `a missing "${value}"`);
    this.position++;
  }

  private ternary(): string {
    const condition = this.binary(0);
    if (!this.isOp("?")) return condition;
    this.position++;
    const whenTrue = this.ternary();
    this.take(":");
    const whenFalse = this.ternary();
    return `(${condition} ? ${whenTrue} : ${whenFalse})`;
  }

  /** Binary operators by precedence, lowest first; `null` marks operators that have no exact equivalent. */
  private static readonly LEVELS: Record<string, string | null>[] = [
    { "||": "or" },
    { "&&": "and" },
    { "===": "=", "!==": "!=", "==": null, "!=": null },
    { "<": "<", ">": ">", "<=": "<=", ">=": ">=" },
    { "+": null, "-": "-" },
    { "*": "*", "/": "/", "%": "%" },
  ];

  private binary(level: number): string {
    if (level >= Parser.LEVELS.length) return this.unary();
    const operators = Parser.LEVELS[level]!;
    let left = this.binary(level + 1);
    for (;;) {
      const token = this.peek();
      if (token?.kind !== "op" || !(token.value in operators)) return left;
      const mapped = operators[token.value];
      if (mapped === null) {
        throw new Untranslatable(
          token.value === "+" ? `"+" (JavaScript adds or concatenates depending on the values; JSONata's "+" only adds, "&" concatenates)` : `"${token.value}" (loose equality)`,
        );
      }
      this.position++;
      const right = this.binary(level + 1);
      left = `${left} ${mapped} ${right}`;
      this.referencePath = null;
    }
  }

  private unary(): string {
    if (this.isOp("!")) {
      this.position++;
      this.referencePath = null;
      return `$not(${this.unary()})`;
    }
    if (this.isOp("-")) {
      this.position++;
      this.referencePath = null;
      return `-${this.unary()}`;
    }
    return this.primary();
  }

  private primary(): string {
    const token = this.peek();
    if (!token) throw new Untranslatable("an incomplete expression");
    if (token.kind === "num") {
      this.position++;
      return String(Number(token.value));
    }
    if (token.kind === "str") {
      this.position++;
      return JSON.stringify(token.value);
    }
    if (token.kind === "op" && token.value === "(") {
      this.position++;
      const inner = this.ternary();
      this.take(")");
      return `(${inner})`;
    }
    if (token.kind === "op" && token.value === "{") return this.objectLiteral();
    if (token.kind === "op" && token.value === "[") return this.arrayLiteral();
    if (token.kind === "id") {
      if (token.value === "true" || token.value === "false" || token.value === "null") {
        this.position++;
        return token.value;
      }
      return this.reference();
    }
    throw new Untranslatable(`"${token.value}"`);
  }

  private objectLiteral(): string {
    this.take("{");
    const entries: string[] = [];
    while (!this.isOp("}")) {
      const key = this.peek();
      if (!key || (key.kind !== "id" && key.kind !== "str")) throw new Untranslatable("an object key that is not a name or a string");
      this.position++;
      this.take(":");
      entries.push(`${JSON.stringify(key.value)}: ${this.ternary()}`);
      if (!this.isOp("}")) this.take(",");
    }
    this.take("}");
    this.referencePath = null;
    return `{${entries.join(", ")}}`;
  }

  private arrayLiteral(): string {
    this.take("[");
    const items: string[] = [];
    while (!this.isOp("]")) {
      items.push(this.ternary());
      if (!this.isOp("]")) this.take(",");
    }
    this.take("]");
    this.referencePath = null;
    return `[${items.join(", ")}]`;
  }

  /** `$json…`, `$input.item.json…`, `$input.first().json…`, `$('Name').item.json…`, `$node["Name"].json…`. */
  private reference(): string {
    const head = this.peek()!.value;
    this.position++;
    let ref: DataRef | null;
    if (head === "$json") ref = this.required(this.scope.input(), "$json (the node has no input)");
    else if (head === "$input") {
      this.take(".");
      this.itemAccessor();
      this.take(".");
      this.expectId("json");
      ref = this.required(this.scope.input(), "$input (the node has no input)");
    } else if (head === "$" && this.isOp("(")) {
      this.position++;
      const name = this.peek();
      if (name?.kind !== "str") throw new Untranslatable("$() without a node name");
      this.position++;
      this.take(")");
      this.take(".");
      this.itemAccessor();
      this.take(".");
      this.expectId("json");
      ref = this.required(this.scope.node(name.value), `$('${name.value}') (no step was imported for that node)`);
    } else if (head === "$node") {
      this.take("[");
      const name = this.peek();
      if (name?.kind !== "str") throw new Untranslatable('$node[…] without a node name');
      this.position++;
      this.take("]");
      this.take(".");
      this.expectId("json");
      ref = this.required(this.scope.node(name.value), `$node["${name.value}"] (no step was imported for that node)`);
    } else throw new Untranslatable(`"${head}"`);
    if (ref.inexact) throw new Untranslatable(ref.inexact);

    const fields: (string | number)[] = [];
    for (;;) {
      if (this.isOp(".") && this.peek(1)?.kind === "id") {
        fields.push(this.peek(1)!.value);
        this.position += 2;
      } else if (this.isOp("[") && (this.peek(1)?.kind === "str" || this.peek(1)?.kind === "num") && this.isOp("]", 2)) {
        const key = this.peek(1)!;
        fields.push(key.kind === "num" ? Number(key.value) : key.value);
        this.position += 3;
      } else break;
    }
    if (this.isOp("(") || this.isOp("?.") || this.isOp("[")) throw new Untranslatable("a method call or computed access");
    const segments = [...ref.segments, ...(ref.openai ? openaiFields(fields) : fields)];
    this.references++;
    this.referencePath = this.references === 1 && this.position === this.tokens.length ? segments : null;
    return jsonataPath(segments);
  }

  /** `.item`, `.first()`, `.last()` — the item the node is working on (one item per run in our engine). */
  private itemAccessor(): void {
    const token = this.peek();
    if (token?.kind !== "id") throw new Untranslatable("an item accessor");
    this.position++;
    if (token.value === "item") return;
    if (token.value === "first" || token.value === "last") {
      this.take("(");
      this.take(")");
      return;
    }
    throw new Untranslatable(`.${token.value} (several items)`);
  }

  private expectId(value: string): void {
    const token = this.peek();
    if (token?.kind !== "id" || token.value !== value) throw new Untranslatable(`a reference other than .${value}`);
    this.position++;
  }

  private required(ref: DataRef | null, what: string): DataRef {
    if (!ref) throw new Untranslatable(what);
    return ref;
  }
}

/** n8n's simplified OpenAI output is `{ message: { role, content } }`; ours is `{ content, json? }`. */
function openaiFields(fields: (string | number)[]): (string | number)[] {
  if (fields[0] === "message" && fields[1] === "content") return fields.length > 2 ? ["json", ...fields.slice(2)] : ["content"];
  throw new Untranslatable(`$json.${fields.join(".")} of an OpenAI node (our openai.chat outputs { content, json })`);
}

/** One JavaScript expression (the inside of `{{ }}`) as JSONata. */
export function translateJs(code: string, scope: ExpressionScope): Translation & { path?: (string | number)[] } {
  try {
    const parser = new Parser(tokenize(code), scope);
    const text = parser.parse();
    return { ok: true, exact: true, text, ...(parser.referencePath && { path: parser.referencePath }) };
  } catch (error) {
    if (error instanceof Untranslatable) return { ok: false, reason: `${error.message} has no exact equivalent` };
    throw error;
  }
}

/** Is this n8n parameter value an expression (a string starting with "=")? */
export const isN8nExpression = (value: unknown): value is string => typeof value === "string" && value.startsWith("=");

/** An n8n expression's text split into literal text and `{{ code }}` parts. */
export function splitTemplate(expression: string): ({ text: string } | { code: string })[] {
  const parts: ({ text: string } | { code: string })[] = [];
  const body = expression.startsWith("=") ? expression.slice(1) : expression;
  let rest = body;
  for (;;) {
    const open = rest.indexOf("{{");
    const close = open >= 0 ? rest.indexOf("}}", open + 2) : -1;
    if (open < 0 || close < 0) {
      if (rest) parts.push({ text: rest });
      return parts;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    parts.push({ code: rest.slice(open + 2, close).trim() });
    rest = rest.slice(close + 2);
  }
}

/** An n8n value (literal or `=` expression) as one JSONata expression. */
export function toJsonata(value: unknown, scope: ExpressionScope): Translation {
  if (!isN8nExpression(value)) return { ok: true, exact: true, text: value === undefined ? "null" : JSON.stringify(value) };
  const parts = splitTemplate(value);
  if (parts.length === 0) return { ok: true, exact: true, text: '""' };
  const pieces: string[] = [];
  for (const part of parts) {
    if ("text" in part) {
      pieces.push(JSON.stringify(part.text));
      continue;
    }
    const translated = translateJs(part.code, scope);
    if (!translated.ok) return { ok: false, reason: `{{ ${part.code} }}: ${translated.reason}` };
    pieces.push(parts.length === 1 ? translated.text : `$string(${translated.text})`);
  }
  return { ok: true, exact: true, text: pieces.join(" & ") };
}

const TEMPLATE_SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** An n8n value as one of our `{{ path }}` templates (R12): only plain data references are exact there. */
export function toTemplate(value: string, scope: ExpressionScope): Translation {
  if (!isN8nExpression(value)) return { ok: true, exact: true, text: value };
  let text = "";
  for (const part of splitTemplate(value)) {
    if ("text" in part) {
      text += part.text;
      continue;
    }
    const translated = translateJs(part.code, scope);
    if (!translated.ok) return { ok: false, reason: `{{ ${part.code} }}: ${translated.reason}` };
    const path = translated.path?.map(String);
    if (!path || !path.every((segment) => TEMPLATE_SEGMENT.test(segment))) {
      return { ok: false, reason: `{{ ${part.code} }}: our templates take a plain path only (use a transform step for computed values)` };
    }
    text += `{{ ${path.join(".")} }}`;
  }
  return { ok: true, exact: true, text };
}
