import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { DomainError } from "@/server/errors";
import { readBodyText } from "@/server/http/input";
import { appRouter } from "@/server/trpc/root";
import { createTrpcContext } from "@/server/trpc/init";

/** `/api/trpc/*`: the studio's procedures over HTTP. */
export async function trpcRoute(req: Request) {
  // The body is read here, within STUDIO_JSON_MAX_KB, so tRPC never buffers more than that.
  let bodyRefusal: DomainError | undefined;
  let limited = req;
  if (req.method === "POST") {
    const body = await readBodyText(req).catch((err: unknown) => {
      if (!(err instanceof DomainError)) throw err;
      bodyRefusal = err;
      return "";
    });
    limited = new Request(req.url, { method: req.method, headers: req.headers, body: bodyRefusal ? null : body });
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: limited,
    router: appRouter,
    createContext: () => createTrpcContext(limited, undefined, { bodyRefusal }),
  });
}
