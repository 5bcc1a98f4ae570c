"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

const ROLES = ["owner", "admin", "member", "viewer"] as const;
type RoleName = (typeof ROLES)[number];

export function AdminView({ selfId }: { selfId: number }) {
  const { t, roleLabel } = useT();
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
      <h1>{t("admin")}</h1>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      <h2>{t("newUser")}</h2>
      <form className="panel row" onSubmit={submitUser}>
        <input name="email" type="email" placeholder={t("email")} required aria-label="new user email" />
        <input name="name" placeholder={t("name")} aria-label="new user name" />
        <input name="password" type="password" placeholder={t("passwordMin")} required minLength={8} aria-label="new user password" />
        <select name="teamId" aria-label="new user team">
          {teams.data?.map((team) => (
            <option key={team.id} value={team.id}>
              {team.name}
            </option>
          ))}
        </select>
        <select name="role" defaultValue="member" aria-label="new user role">
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)}
            </option>
          ))}
        </select>
        <label className="row">
          <input type="checkbox" name="isAdmin" /> {t("studioAdmin")}
        </label>
        <button className="primary" type="submit">
          {t("createUser")}
        </button>
      </form>
      <h2>{t("newTeam")}</h2>
      <form className="panel row" onSubmit={submitTeam}>
        <input name="name" placeholder={t("teamName")} required aria-label="new team name" />
        <button className="primary" type="submit">
          {t("createTeam")}
        </button>
      </form>
      <h2>{t("users")}</h2>
      <div className="panel">
        <table>
          <thead>
            <tr>
              <th>{t("email")}</th>
              <th>{t("teamsAndRoles")}</th>
              <th>{t("addToTeam")}</th>
              <th>{t("status")}</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((u) => (
              <tr key={u.id} data-testid="user-row">
                <td>
                  {u.email} {u.isAdmin && <span className="badge">{t("studioAdminBadge")}</span>}
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
                          <option key={r} value={r}>
                            {roleLabel(r)}
                          </option>
                        ))}
                      </select>
                      <button type="button" onClick={() => removeMembership.mutate({ userId: u.id, teamId: m.teamId })}>
                        {t("remove")}
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
                    <option value="">{t("addTo")}</option>
                    {teams.data
                      ?.filter((team) => !u.teams.some((m) => m.teamId === team.id))
                      .map((team) => (
                        <option key={team.id} value={team.id}>
                          {team.name}
                        </option>
                      ))}
                  </select>
                </td>
                <td>
                  {u.id !== selfId && (
                    <button type="button" onClick={() => setDisabled.mutate({ userId: u.id, disabled: !u.disabled })}>
                      {u.disabled ? t("enable") : t("disable")}
                    </button>
                  )}
                  {u.disabled && <span className="badge">{t("disabled")}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{t("resetAPassword")}</h2>
      <form className="panel row" onSubmit={submitReset}>
        <label>
          {t("user")}{" "}
          <select name="userId" required>
            {users.data?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("newPassword")} <input name="newPassword" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <button type="submit" disabled={resetPassword.isPending}>
          {t("resetPassword")}
        </button>
        {resetPassword.isSuccess && <span role="status">{t("passwordReset")}</span>}
      </form>
    </>
  );
}
