"use client";

import { useT, type MessageKey } from "./i18n";

/** An honest placeholder for a capability that is not built yet: no invented data. */
export function NotBuiltYet({ title }: { title: MessageKey }) {
  const { t } = useT();
  return (
    <>
      <h1>{t(title)}</h1>
      <div className="panel empty">{t("notYet")}</div>
    </>
  );
}
