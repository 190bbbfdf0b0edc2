import type { Caller } from "../context.js";
import type { GraphQLContext } from "./builder.js";

/**
 * Who an object's fields resolve as. Usually the request's caller; but the payload of signUp, logIn and
 * refreshSession is read by a caller who was anonymous a moment ago, so what it reaches (the user, their
 * workspaces, members) carries the identity it just signed in as (issue #13, defect 1).
 */
export interface Viewed {
  viewer?: Caller;
}

export const viewerOf = (parent: Viewed, ctx: GraphQLContext): Caller => parent.viewer ?? ctx.caller;

/** `value` resolving as `viewer` (unchanged when there is none: the request's caller then). */
export const seenBy = <T extends object>(value: T, viewer: Caller | undefined): T & Viewed => (viewer ? { ...value, viewer } : value);
