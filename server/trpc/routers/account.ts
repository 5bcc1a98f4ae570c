import { createApiKey, createApiKeyInput, listApiKeys, revokeApiKey, revokeApiKeyInput } from "@/server/auth/api-keys";
import { changePassword, changePasswordInput } from "@/server/auth/passwords";
import { myTeams } from "@/server/auth/users";
import { authed, router } from "../init";

export const accountRouter = router({
  me: authed.query(({ ctx }) => ctx.caller),
  teams: authed.query(({ ctx }) => myTeams(ctx.svc)),
  apiKeys: authed.query(({ ctx }) => listApiKeys(ctx.svc)),
  createApiKey: authed.input(createApiKeyInput).mutation(({ ctx, input }) => createApiKey(ctx.svc, input)),
  revokeApiKey: authed.input(revokeApiKeyInput).mutation(({ ctx, input }) => revokeApiKey(ctx.svc, input)),
  changePassword: authed.input(changePasswordInput).mutation(({ ctx, input }) => changePassword(ctx.svc, input)),
});
