"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { errorText, useTRPC } from "@/components/trpc";

const ROLES = ["owner", "admin", "member", "viewer"] as const;
type RoleName = (typeof ROLES)[number];

export function AdminView({ selfId }: { selfId: number }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.admin.users.queryOptions());
  const teams = useQuery(trpc.admin.teams.queryOptions());
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: trpc.admin.users.queryKey() });
    queryClient.invalidateQueries({ queryKey: trpc.admin.teams.queryKey() });
  };
  const createUser = useMutation(trpc.admin.createUser.mutationOptions({ onSuccess: refresh }));
  const createTeam = useMutation(trpc.admin.createTeam.mutationOptions({ onSuccess: refresh }));
  const setMembership = useMutation(trpc.admin.setMembership.mutationOptions({ onSuccess: refresh }));
  const removeMembership = useMutation(trpc.admin.removeMembership.mutationOptions({ onSuccess: refresh }));
  const setDisabled = useMutation(trpc.admin.setDisabled.mutationOptions({ onSuccess: refresh }));
  const resetPassword = useMutation(trpc.admin.resetPassword.mutationOptions());
  const error = createUser.error ?? createTeam.error ?? setMembership.error ?? removeMembership.error ?? setDisabled.error ?? resetPassword.error ?? users.error;

  function submitReset(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const d = new FormData(form);
    resetPassword.mutate({ userId: Number(d.get("userId")), newPassword: String(d.get("newPassword")) }, { onSuccess: () => form.reset() });
  }

  function submitUser(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const d = new FormData(form);
    createUser.mutate(
      {
        email: String(d.get("email")),
        name: String(d.get("name") ?? ""),
        password: String(d.get("password")),
        teamId: Number(d.get("teamId")),
        role: String(d.get("role")) as RoleName,
        isAdmin: d.get("isAdmin") === "on",
      },
      { onSuccess: () => form.reset() },
    );
  }

  function submitTeam(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    createTeam.mutate({ name: String(new FormData(form).get("name")) }, { onSuccess: () => form.reset() });
  }

  return (
    <>
      <h1>Admin</h1>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      <h2>New user</h2>
      <form className="panel row" onSubmit={submitUser}>
        <input name="email" type="email" placeholder="email" required aria-label="new user email" />
        <input name="name" placeholder="name" aria-label="new user name" />
        <input name="password" type="password" placeholder="password (8+)" required minLength={8} aria-label="new user password" />
        <select name="teamId" aria-label="new user team">
          {teams.data?.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <select name="role" defaultValue="member" aria-label="new user role">
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <label className="row">
          <input type="checkbox" name="isAdmin" /> studio admin
        </label>
        <button className="primary" type="submit">
          Create user
        </button>
      </form>
      <h2>New team</h2>
      <form className="panel row" onSubmit={submitTeam}>
        <input name="name" placeholder="team name" required aria-label="new team name" />
        <button className="primary" type="submit">
          Create team
        </button>
      </form>
      <h2>Users</h2>
      <div className="panel">
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Teams and roles</th>
              <th>Add to team</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((u) => (
              <tr key={u.id} data-testid="user-row">
                <td>
                  {u.email} {u.isAdmin && <span className="badge">admin</span>}
                </td>
                <td>
                  {u.teams.map((m) => (
                    <div key={m.teamId} className="row">
                      <span>{m.teamName}</span>
                      <select
                        aria-label={`role of ${u.email} in ${m.teamName}`}
                        value={m.role}
                        onChange={(e) => setMembership.mutate({ userId: u.id, teamId: m.teamId, role: e.target.value as RoleName })}
                      >
                        {ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                      <button type="button" onClick={() => removeMembership.mutate({ userId: u.id, teamId: m.teamId })}>
                        Remove
                      </button>
                    </div>
                  ))}
                </td>
                <td>
                  <select
                    aria-label={`add ${u.email} to team`}
                    value=""
                    onChange={(e) => e.target.value && setMembership.mutate({ userId: u.id, teamId: Number(e.target.value), role: "member" })}
                  >
                    <option value="">add to…</option>
                    {teams.data
                      ?.filter((t) => !u.teams.some((m) => m.teamId === t.id))
                      .map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.name}
                        </option>
                      ))}
                  </select>
                </td>
                <td>
                  {u.id !== selfId && (
                    <button type="button" onClick={() => setDisabled.mutate({ userId: u.id, disabled: !u.disabled })}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  )}
                  {u.disabled && <span className="badge">disabled</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Reset a password</h2>
      <form className="panel row" onSubmit={submitReset}>
        <label>
          User{" "}
          <select name="userId" required>
            {users.data?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          New password <input name="newPassword" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <button type="submit" disabled={resetPassword.isPending}>
          Reset password
        </button>
        {resetPassword.isSuccess && <span role="status">Password reset: the user&apos;s sessions, tokens and API keys have ended.</span>}
      </form>
    </>
  );
}
