import { builder } from "../builder.js";
import { createApiToken, listApiTokens, revokeApiToken, type ApiTokenView } from "../../services/api-tokens.js";
import { endCurrentSession, logOut, refreshSession } from "../../services/sessions.js";
import { logIn, signUp, type AuthPayload } from "../../services/users.js";
import { seenBy } from "../viewer.js";
import { UserRef } from "./user.js";

/** Signing up and in, sessions (refresh tokens) and personal API tokens (docs/api.md). */

const AuthPayloadRef = builder.objectRef<AuthPayload>("AuthPayload").implement({
  description: "A new session: an access token, its refresh token and the account.",
  fields: (t) => ({
    token: t.exposeString("token", { description: "A bearer token (JWT) for the Authorization header." }),
    refreshToken: t.exposeString("refreshToken", { description: "Exchanged once, through refreshSession, for a new token pair." }),
    user: t.field({
      type: UserRef,
      description: "The account signed in; its fields resolve as that account.",
      // The caller may have been anonymous: the user and what it reaches resolve as the account just signed in.
      resolve: (payload, _args, ctx) => seenBy(payload.user, { principal: { userId: payload.user.id, via: "jwt" }, ip: ctx.caller.ip }),
    }),
  }),
});

const SignUpInput = builder.inputType("SignUpInput", {
  description: "A new account (it gets a workspace of its own).",
  fields: (t) => ({
    email: t.string({ required: true, description: "The email to sign in with; unique (CONFLICT when taken)." }),
    password: t.string({ required: true, description: "At least 8 characters." }),
    name: t.string({ required: true, description: "The name shown to other members." }),
  }),
});

const LogInInput = builder.inputType("LogInInput", {
  description: "An account's credentials.",
  fields: (t) => ({
    email: t.string({ required: true, description: "The account's email." }),
    password: t.string({ required: true, description: "The account's password." }),
  }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayloadRef,
    description: "Creates an account with a workspace it owns, and signs it in. Counts against the sign-in limit per address.",
    args: { input: t.arg({ type: SignUpInput, required: true, description: "The new account." }) },
    resolve: (_root, { input }, ctx) => signUp(ctx.deps, ctx.caller, input),
  }),
  logIn: t.field({
    type: AuthPayloadRef,
    description: "Signs in with email and password (UNAUTHENTICATED when either is wrong). Counts against the sign-in limit per address.",
    args: { input: t.arg({ type: LogInInput, required: true, description: "The credentials." }) },
    resolve: (_root, { input }, ctx) => logIn(ctx.deps, ctx.caller, input),
  }),
}));

const ApiTokenRef = builder.objectRef<ApiTokenView>("ApiToken").implement({
  description: "A personal API token. The token itself is shown only once, when it is created.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The token's id (not the token)." }),
    name: t.exposeString("name", { description: "What the token is for, as its creator named it." }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (token) => token.createdAt }),
    lastUsedAt: t.field({ type: "DateTime", nullable: true, description: "When it last authenticated a request; null if never.", resolve: (token) => token.lastUsedAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, description: "When it was revoked; null while it works.", resolve: (token) => token.revokedAt }),
  }),
});

const CreatedApiTokenRef = builder.objectRef<{ token: string; apiToken: ApiTokenView }>("CreatedApiToken").implement({
  description: "A personal API token just created, with the token itself (shown this once).",
  fields: (t) => ({
    token: t.exposeString("token", { description: "Send as `Authorization: Bearer <token>`. Not shown again." }),
    apiToken: t.field({ type: ApiTokenRef, description: "The token as apiTokens lists it.", resolve: (created) => created.apiToken }),
  }),
});

const RefreshSessionInput = builder.inputType("RefreshSessionInput", {
  description: "A refresh token to exchange.",
  fields: (t) => ({ refreshToken: t.string({ required: true, description: "The refreshToken of the session's latest pair." }) }),
});
const LogOutInput = builder.inputType("LogOutInput", {
  description: "The session to end.",
  fields: (t) => ({ refreshToken: t.string({ required: true, description: "Any refresh token of the session." }) }),
});
const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  description: "A new personal API token.",
  fields: (t) => ({ name: t.string({ required: true, description: "What the token is for." }) }),
});

builder.queryField("apiTokens", (t) =>
  t.field({ type: [ApiTokenRef], description: "The caller's personal API tokens.", resolve: (_root, _args, ctx) => listApiTokens(ctx.deps, ctx.caller) }),
);

builder.mutationFields((t) => ({
  refreshSession: t.field({
    type: AuthPayloadRef,
    description: "Exchanges a refresh token for a new pair. Reusing a refresh token revokes its whole session.",
    args: { input: t.arg({ type: RefreshSessionInput, required: true, description: "The refresh token." }) },
    resolve: (_root, { input }, ctx) => refreshSession(ctx.deps, ctx.caller, input),
  }),
  logOut: t.boolean({
    description: "Revokes the session the refresh token belongs to.",
    args: { input: t.arg({ type: LogOutInput, required: true, description: "The session's refresh token." }) },
    resolve: (_root, { input }, ctx) => logOut(ctx.deps, input),
  }),
  endSession: t.boolean({
    description:
      "Ends the caller's own session (the one its access token belongs to): its access and refresh tokens stop working at once. The studio's log out; API tokens are revoked with revokeApiToken.",
    resolve: (_root, _args, ctx) => endCurrentSession(ctx.deps, ctx.caller),
  }),
  createApiToken: t.field({
    type: CreatedApiTokenRef,
    description: "Creates a personal API token (`alg_pat_…`) for the caller. Not with an API token: those cannot mint more.",
    args: { input: t.arg({ type: CreateApiTokenInput, required: true, description: "The new token." }) },
    resolve: (_root, { input }, ctx) => createApiToken(ctx.deps, ctx.caller, input),
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    description: "Revokes one of the caller's API tokens: it stops working at once.",
    args: { id: t.arg.id({ required: true, description: "The token's id." }) },
    resolve: (_root, args, ctx) => revokeApiToken(ctx.deps, ctx.caller, String(args.id)),
  }),
}));
