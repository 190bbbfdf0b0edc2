import { builder } from "../builder.js";
import { createApiToken, listApiTokens, revokeApiToken, type ApiTokenView } from "../../services/api-tokens.js";
import { endCurrentSession, logOut, refreshSession } from "../../services/sessions.js";
import { logIn, signUp, type AuthPayload } from "../../services/users.js";
import { seenBy } from "../viewer.js";
import { UserRef } from "./user.js";

/** Signing up and in, sessions (refresh tokens) and personal API tokens (docs/api.md). */

const AuthPayloadRef = builder.objectRef<AuthPayload>("AuthPayload").implement({
  fields: (t) => ({
    token: t.exposeString("token", { description: "A bearer token (JWT) for the Authorization header." }),
    refreshToken: t.exposeString("refreshToken", { description: "Exchanged once, through refreshSession, for a new token pair." }),
    user: t.field({
      type: UserRef,
      // The caller may have been anonymous: the user and what it reaches resolve as the account just signed in.
      resolve: (payload, _args, ctx) => seenBy(payload.user, { principal: { userId: payload.user.id, via: "jwt" }, ip: ctx.caller.ip }),
    }),
  }),
});

const SignUpInput = builder.inputType("SignUpInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    name: t.string({ required: true }),
  }),
});

const LogInInput = builder.inputType("LogInInput", {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayloadRef,
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: (_root, { input }, ctx) => signUp(ctx.deps, ctx.caller, input),
  }),
  logIn: t.field({
    type: AuthPayloadRef,
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: (_root, { input }, ctx) => logIn(ctx.deps, ctx.caller, input),
  }),
}));

const ApiTokenRef = builder.objectRef<ApiTokenView>("ApiToken").implement({
  description: "A personal API token. The token itself is shown only once, when it is created.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    createdAt: t.field({ type: "DateTime", resolve: (token) => token.createdAt }),
    lastUsedAt: t.field({ type: "DateTime", nullable: true, resolve: (token) => token.lastUsedAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (token) => token.revokedAt }),
  }),
});

const CreatedApiTokenRef = builder.objectRef<{ token: string; apiToken: ApiTokenView }>("CreatedApiToken").implement({
  fields: (t) => ({
    token: t.exposeString("token", { description: "Send as `Authorization: Bearer <token>`. Not shown again." }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (created) => created.apiToken }),
  }),
});

const RefreshSessionInput = builder.inputType("RefreshSessionInput", {
  fields: (t) => ({ refreshToken: t.string({ required: true }) }),
});
const LogOutInput = builder.inputType("LogOutInput", {
  fields: (t) => ({ refreshToken: t.string({ required: true }) }),
});
const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.queryField("apiTokens", (t) =>
  t.field({ type: [ApiTokenRef], description: "The caller's personal API tokens.", resolve: (_root, _args, ctx) => listApiTokens(ctx.deps, ctx.caller) }),
);

builder.mutationFields((t) => ({
  refreshSession: t.field({
    type: AuthPayloadRef,
    description: "Exchanges a refresh token for a new pair. Reusing a refresh token revokes its whole session.",
    args: { input: t.arg({ type: RefreshSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => refreshSession(ctx.deps, ctx.caller, input),
  }),
  logOut: t.boolean({
    description: "Revokes the session the refresh token belongs to.",
    args: { input: t.arg({ type: LogOutInput, required: true }) },
    resolve: (_root, { input }, ctx) => logOut(ctx.deps, input),
  }),
  endSession: t.boolean({
    description:
      "Ends the caller's own session (the one its access token belongs to): its access and refresh tokens stop working at once. The studio's log out; API tokens are revoked with revokeApiToken.",
    resolve: (_root, _args, ctx) => endCurrentSession(ctx.deps, ctx.caller),
  }),
  createApiToken: t.field({
    type: CreatedApiTokenRef,
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiToken(ctx.deps, ctx.caller, input),
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => revokeApiToken(ctx.deps, ctx.caller, String(args.id)),
  }),
}));
