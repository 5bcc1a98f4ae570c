"use client";

import { useMutation } from "@tanstack/react-query";
import { signOut } from "next-auth/react";
import { type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

/** A new password ends this session too, so a success logs out after saying why. */
export function PasswordForm() {
  const { t } = useT();
  const trpc = useTRPC();
  const change = useMutation(trpc.account.changePassword.mutationOptions({ onSuccess: () => setTimeout(() => void signOut({ callbackUrl: "/login" }), 2500) }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    change.mutate({ currentPassword: String(data.get("currentPassword")), newPassword: String(data.get("newPassword")) });
  }

  return (
    <>
      <h2>{t("changePassword")}</h2>
      <form className="panel row" onSubmit={submit}>
        <label>
          {t("currentPassword")} <input name="currentPassword" type="password" autoComplete="current-password" required />
        </label>
        <label>
          {t("newPassword")} <input name="newPassword" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <button className="primary" type="submit" disabled={change.isPending || change.isSuccess}>
          {t("changePassword")}
        </button>
      </form>
      {change.error && <p className="error">{errorText(change.error)}</p>}
      {change.isSuccess && <p className="ok" role="status">{t("passwordChanged")}</p>}
    </>
  );
}
