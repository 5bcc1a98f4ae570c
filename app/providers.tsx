"use client";

import { SessionProvider } from "next-auth/react";
import type { ReactNode } from "react";
import { LangProvider, type Lang } from "@/components/i18n";
import { TrpcProviders } from "@/components/trpc";

export function Providers({ lang, children }: { lang: Lang; children: ReactNode }) {
  return (
    <SessionProvider refetchOnWindowFocus={false}>
      <LangProvider initial={lang}>
        <TrpcProviders>{children}</TrpcProviders>
      </LangProvider>
    </SessionProvider>
  );
}
