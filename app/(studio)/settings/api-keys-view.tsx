"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

export function ApiKeysView({ teamName }: { teamName: string }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.account.apiKeys.queryOptions());
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.account.apiKeys.queryKey() });
  const [shown, setShown] = useState<string | null>(null);
  const create = useMutation(trpc.account.createApiKey.mutationOptions({ onSuccess: (k) => (setShown(k.key), invalidate()) }));
  const revoke = useMutation(trpc.account.revokeApiKey.mutationOptions({ onSuccess: invalidate }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    create.mutate({ name: String(new FormData(form).get("name")) }, { onSuccess: () => form.reset() });
  }

  return (
    <>
      <h1>{t("settings")}</h1>
      <h2>{t("apiKeys")}</h2>
      <p className="muted">
        {t("apiKeysHintBefore")} <code>Authorization: Bearer &lt;key&gt;</code>
        {t("apiKeysHintAfter", { team: teamName })}
      </p>
      <form className="panel row" onSubmit={submit}>
        <input name="name" placeholder={t("name")} required aria-label="key name" />
        <button className="primary" type="submit" disabled={create.isPending}>
          {t("create")}
        </button>
      </form>
      {shown && (
        <div className="panel">
          <p>{t("copyKeyNow")}</p>
          <code className="secret" data-testid="new-api-key">{shown}</code>
        </div>
      )}
      {(create.error ?? revoke.error) && <p className="error">{errorText(create.error ?? revoke.error)}</p>}
      <div className="panel">
        <table>
          <thead>
            <tr>
              <th>{t("name")}</th>
              <th>{t("keyPrefix")}</th>
              <th>{t("created")}</th>
              <th>{t("lastUsed")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data?.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td className="muted">{new Date(k.createdAt).toLocaleString()}</td>
                <td className="muted">{k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : t("never")}</td>
                <td>
                  {k.revokedAt ? (
                    <span className="badge">{t("revoked")}</span>
                  ) : (
                    <button type="button" className="danger" onClick={() => revoke.mutate({ id: k.id })}>
                      {t("revoke")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
