"use client";

import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";

export function LoginForm() {
  const { t, withDetail } = useT();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    const res = await signIn("credentials", { email: form.get("email"), password: form.get("password"), redirect: false });
    setBusy(false);
    if (!res || res.error) {
      setError(res?.status === 429 || res?.error?.includes("Too many") ? withDetail(t("tooManyLogins"), res?.error) : t("wrongLogin"));
      return;
    }
    const callbackUrl = new URLSearchParams(window.location.search).get("callbackUrl");
    window.location.href = callbackUrl && callbackUrl.startsWith("/") && !callbackUrl.startsWith("//") ? callbackUrl : "/";
  }

  return (
    <main className="login panel">
      <h1>{t("loginTitle")}</h1>
      <form onSubmit={submit}>
        <label>
          {t("email")}
          <br />
          <input name="email" type="email" autoComplete="username" required style={{ width: "100%" }} />
        </label>
        <label>
          {t("password")}
          <br />
          <input name="password" type="password" autoComplete="current-password" required style={{ width: "100%" }} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button className="primary" type="submit" disabled={busy}>
          {t("login")}
        </button>
      </form>
    </main>
  );
}
