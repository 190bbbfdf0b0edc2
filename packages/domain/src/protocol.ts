/** Wire constants shared by the studio, the server and the collab service. */

/** Header the studio sends on cookie-authenticated writes (CSRF defence; see server/auth.ts). */
export const CSRF_HEADER = "x-algorythmos-csrf";

/** The collab WebSocket path: `/collab/<workflowId>`, token in the `token` query parameter. */
export const COLLAB_PATH_PREFIX = "/collab/";

/** WebSocket close codes of the collab service (4000–4999 is the application range). */
export const COLLAB_CLOSE = {
  /** No token, or a token that is invalid, expired or revoked. */
  UNAUTHENTICATED: 4401,
  /** The workflow does not exist or the caller is not a member of its workspace. */
  NOT_FOUND: 4404,
  /** A message that is not valid y-websocket protocol. */
  MALFORMED: 4400,
  /** A message larger than COLLAB_MAX_MESSAGE_BYTES. */
  TOO_LARGE: 4413,
  /** Too many messages per second from one client. */
  RATE_LIMITED: 4429,
  /** The document could not be loaded or stored; the client should reconnect later. */
  UNAVAILABLE: 4503,
  /**
   * The edit would grow the document past MAX_WORKFLOW_DOC_BYTES (the API's cap too); it was not stored.
   * Reconnecting resends it: the studio tells the user to remove steps or shorten their configuration.
   */
  DOCUMENT_TOO_LARGE: 4507,
} as const;

/**
 * Presence a socket may hold: awareness client ids (a browser tab has one per document) and the size of one
 * presence state. Beyond either, the socket is closed as MALFORMED: presence is fanned out to every member.
 */
export const COLLAB_MAX_PRESENCE_IDS_PER_SOCKET = 4;
export const COLLAB_MAX_PRESENCE_STATE_BYTES = 8 * 1024;

/**
 * The largest collab message. Sized so one message cannot hold the event loop for 100 ms: a 450 KB update of
 * ~40,000 small edits (the costliest shape per byte) takes ~70 ms to check and apply here (docs/collab.md).
 */
export const COLLAB_MAX_MESSAGE_BYTES = 512 * 1024;

/** A GraphQL response as the studio sees it. */
export interface GraphQLResponse<Data = Record<string, unknown>> {
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; fields?: { path: (string | number)[]; message: string }[] } & Record<string, unknown> }[];
}

/** The Remix load context the server gives the studio: GraphQL, in-process, as the request's user. */
export interface StudioLoadContext {
  graphql: <Data = Record<string, unknown>>(request: Request, query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<Data>>;
}
