import type { TadaDocumentNode } from "gql.tada";
import { print } from "@0no-co/graphql.web";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { LOG_IN, REFRESH_SESSION } from "./documents.js";
import { errorFromGraphQL, NetworkError, UnauthenticatedError, type GraphQLErrorShape } from "./errors.js";

/** An access token and (for logins, not API tokens) the refresh token that renews it. */
export interface Tokens {
  token: string;
  refreshToken?: string | null;
}

export interface ClientOptions {
  /** The studio's base URL, e.g. http://localhost:3000 (GraphQL is at /graphql). */
  url: string;
  /** A login's tokens, or `{ token: <personal API token> }`. */
  tokens?: Tokens | null;
  /** Called with the new pair after a refresh (to store it); refresh tokens are single-use. */
  onTokens?(tokens: Tokens): void | Promise<void>;
  fetch?: typeof fetch;
  /** A WebSocket class for graphql-ws where there is no global one (Node 20: `ws`); loaded from `ws` if absent. */
  webSocketImpl?: unknown;
}

/** A Relay connection as documents select it. */
export interface Connection<Node> {
  edges: readonly { node: Node }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

type Variables<V> = V extends Record<string, never> ? void | V : V;

/**
 * The typed Algorythmos client: every call takes a gql.tada document (see documents.ts, or write your own
 * with `graphql()`), so its variables and result are checked against schema.graphql at compile time.
 */
export class AlgorythmosClient {
  private tokens: Tokens | null;
  private refreshing: Promise<boolean> | null = null;
  private readonly fetchImpl: typeof fetch;
  readonly url: string;

  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.tokens = options.tokens ?? null;
    this.fetchImpl = options.fetch ?? fetch;
  }

  get currentTokens(): Tokens | null {
    return this.tokens;
  }

  /** Logs in with email and password; the client keeps (and reports through onTokens) the pair. */
  async logIn(email: string, password: string) {
    const { logIn } = await this.request(LOG_IN, { input: { email, password } }, { auth: false });
    await this.setTokens({ token: logIn.token, refreshToken: logIn.refreshToken });
    return logIn;
  }

  /**
   * One query or mutation. Throws the typed error of `extensions.code` (errors.ts). An UNAUTHENTICATED answer
   * with a refresh token at hand refreshes the session once (shared by concurrent calls) and retries.
   */
  async request<Result, Vars>(document: TadaDocumentNode<Result, Vars>, variables: Variables<Vars>, options: { auth?: boolean } = {}): Promise<Result> {
    const send = () => this.post<Result>(document, variables ?? {}, options.auth !== false);
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof UnauthenticatedError) || options.auth === false || !(await this.refresh())) throw error;
      return send();
    }
  }

  /**
   * Every node of a Relay connection, page by page (`first` per page, `after` = the last endCursor). Stops
   * after `maxPages` (default 1000) so a server that never ends cannot loop us forever.
   */
  async *paginate<Result, Vars extends { after?: string | null; first?: number | null }, Node>(
    document: TadaDocumentNode<Result, Vars>,
    variables: Omit<Vars, "after">,
    connection: (data: Result) => Connection<Node>,
    options: { maxPages?: number } = {},
  ): AsyncGenerator<Node, void, undefined> {
    let after: string | null = null;
    for (let page = 0; page < (options.maxPages ?? 1000); page++) {
      const data: Result = await this.request(document, { ...variables, after } as unknown as Variables<Vars>);
      const { edges, pageInfo } = connection(data);
      for (const edge of edges) yield edge.node;
      if (!pageInfo.hasNextPage || !pageInfo.endCursor) return;
      after = pageInfo.endCursor;
    }
  }

  /**
   * A subscription as an async iterator, over graphql-ws (`transport: "ws"`, default) or GraphQL over SSE
   * (`"sse"`, POST /graphql with `accept: text/event-stream`). Ends when the server completes it (runEvents
   * completes after run.finished) or when the loop breaks; errors are typed like request's.
   */
  async *subscribe<Result, Vars>(
    document: TadaDocumentNode<Result, Vars>,
    variables: Variables<Vars>,
    options: { transport?: "ws" | "sse" } = {},
  ): AsyncGenerator<Result, void, undefined> {
    const payload = { query: print(document), variables: (variables ?? {}) as Record<string, unknown> };
    if (options.transport === "sse") {
      const client = createSseClient({
        url: `${this.url}/graphql`,
        fetchFn: this.fetchImpl,
        headers: (): Record<string, string> => (this.tokens ? { authorization: `Bearer ${this.tokens.token}` } : {}),
        retryAttempts: 0,
      });
      try {
        yield* this.results<Result>(client.iterate(payload));
      } finally {
        client.dispose();
      }
      return;
    }
    const client = createWsClient({
      url: `${this.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: await this.webSocketImpl(),
      connectionParams: () => (this.tokens ? { token: this.tokens.token } : {}),
      retryAttempts: 0,
      lazy: true,
    });
    try {
      yield* this.results<Result>(client.iterate(payload));
    } finally {
      await client.dispose();
    }
  }

  private async *results<Result>(iterator: AsyncIterable<{ data?: unknown; errors?: readonly GraphQLErrorShape[] }>): AsyncGenerator<Result> {
    try {
      for await (const result of iterator) {
        if (result.errors?.length) throw errorFromGraphQL(result.errors);
        yield result.data as Result;
      }
    } catch (error) {
      if (Array.isArray(error)) throw errorFromGraphQL(error as GraphQLErrorShape[]);
      if (error && typeof error === "object" && "code" in error && "reason" in error) {
        // A close event of the socket (e.g. 4401 when the session ended, 4403 forbidden).
        const close = error as { code: number; reason: string };
        throw new NetworkError(`The subscription socket closed (${close.code}${close.reason ? ` ${close.reason}` : ""})`, close.code === 4401 ? "UNAUTHENTICATED" : "NETWORK_ERROR");
      }
      throw error;
    }
  }

  private async webSocketImpl(): Promise<unknown> {
    if (this.options.webSocketImpl) return this.options.webSocketImpl;
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function") return (globalThis as { WebSocket?: unknown }).WebSocket;
    return (await import("ws")).default;
  }

  private async post<Result>(document: TadaDocumentNode<Result, any>, variables: unknown, auth: boolean): Promise<Result> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(auth && this.tokens ? { authorization: `Bearer ${this.tokens.token}` } : {}),
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
    } catch (error) {
      throw new NetworkError(`Could not reach ${this.url}: ${(error as Error).message}`, "NETWORK_ERROR");
    }
    let body: { data?: Result | null; errors?: GraphQLErrorShape[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new NetworkError(`${this.url}/graphql answered ${response.status} without GraphQL JSON`, "NETWORK_ERROR", [], response.status);
    }
    if (body.errors?.length) throw errorFromGraphQL(body.errors, response.status);
    if (body.data == null) throw new NetworkError(`${this.url}/graphql answered ${response.status} without data`, "NETWORK_ERROR", [], response.status);
    return body.data;
  }

  /** Exchanges the refresh token for a new pair, once for all concurrent callers; false when it cannot. */
  private refresh(): Promise<boolean> {
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing ??= this.post(REFRESH_SESSION, { input: { refreshToken } }, false)
      .then(async ({ refreshSession }) => {
        await this.setTokens({ token: refreshSession.token, refreshToken: refreshSession.refreshToken });
        return true;
      })
      .catch(() => false)
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private async setTokens(tokens: Tokens): Promise<void> {
    this.tokens = tokens;
    await this.options.onTokens?.(tokens);
  }
}
