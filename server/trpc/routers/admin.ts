import {
  createTeam,
  createTeamInput,
  createUser,
  createUserInput,
  listAllTeams,
  listUsers,
  removeMembership,
  removeMembershipInput,
  setDisabledInput,
  setMembership,
  setMembershipInput,
  setUserDisabled,
} from "@/server/auth/users";
import { resetPassword, resetPasswordInput } from "@/server/auth/passwords";
import { authed, router } from "../init";

// The services check studio-admin rights themselves; the router stays thin.
export const adminRouter = router({
  users: authed.query(({ ctx }) => listUsers(ctx.svc)),
  teams: authed.query(({ ctx }) => listAllTeams(ctx.svc)),
  createUser: authed.input(createUserInput).mutation(({ ctx, input }) => createUser(ctx.svc, input)),
  createTeam: authed.input(createTeamInput).mutation(({ ctx, input }) => createTeam(ctx.svc, input)),
  setMembership: authed.input(setMembershipInput).mutation(({ ctx, input }) => setMembership(ctx.svc, input)),
  removeMembership: authed.input(removeMembershipInput).mutation(({ ctx, input }) => removeMembership(ctx.svc, input)),
  setDisabled: authed.input(setDisabledInput).mutation(({ ctx, input }) => setUserDisabled(ctx.svc, input)),
  resetPassword: authed.input(resetPasswordInput).mutation(({ ctx, input }) => resetPassword(ctx.svc, input)),
});
