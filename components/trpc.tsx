"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/trpc/root";
import { useT, type MessageKey } from "./i18n";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

export function TrpcProviders({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } } }),
  );
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })] }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

const CODE_MESSAGES: Record<string, MessageKey> = {
  BAD_REQUEST: "errorInvalid",
  UNAUTHORIZED: "errorUnauthorized",
  FORBIDDEN: "errorForbidden",
  NOT_FOUND: "errorNotFound",
  CONFLICT: "errorConflict",
  TOO_MANY_REQUESTS: "errorTooManyRequests",
  PAYLOAD_TOO_LARGE: "errorTooLarge",
  SERVICE_UNAVAILABLE: "errorUnavailable",
  INTERNAL_SERVER_ERROR: "errorInternal",
};

/** A failed call in the reader's language: the kind of error by its tRPC code, then the server's message (with field errors when it sent them). */
function ErrorText({ error }: { error: unknown }) {
  const { t, withDetail } = useT();
  const e = error as { message?: string; data?: { code?: string; fieldErrors?: Record<string, string[]> | null } };
  const fields = e?.data?.fieldErrors;
  const detail =
    fields && Object.keys(fields).length > 0
      ? Object.entries(fields)
          .map(([k, v]) => `${k}: ${v.join(", ")}`)
          .join("; ")
      : (e?.message ?? String(error));
  // A tRPC error without the server's shape never got an answer from it.
  const key = e?.data?.code ? (CODE_MESSAGES[e.data.code] ?? "errorGeneric") : error instanceof TRPCClientError ? "errorNetwork" : "errorGeneric";
  return <>{withDetail(t(key), detail)}</>;
}

/** A node, not a string, so that the text follows the language the reader switches to. */
export function errorText(error: unknown): ReactNode {
  return <ErrorText error={error} />;
}
